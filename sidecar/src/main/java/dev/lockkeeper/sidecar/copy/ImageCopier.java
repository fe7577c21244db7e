package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies a range of a raw image. Classify first, copy second: a {@link ChunkPlan} walks the source once and
 * hands out holes and data chunks; workers read each data chunk into their own 4 MiB aligned buffer, split it
 * into 4 KiB blocks that hold data and blocks that are all zeros, write the former and treat the latter as
 * holes. Several workers keep several reads and writes in flight (the disk is faster at queue depth 4 than 1).
 * Memory: {@value #WORKERS} buffers of {@value #CHUNK} bytes outside the heap, whatever the image size.
 *
 * <p>Chunks finish out of order; a {@link Settled} listener hears of the contiguous watermark, the offset below which
 * every chunk is written, which is what a checkpoint may record once the target is synced.
 */
final class ImageCopier {
    static final int CHUNK = 4 << 20;
    static final int BLOCK = 4096;
    static final int WORKERS = 4;

    private final ImageSource source;
    private final ImageSink sink;
    private final ProgressCounter progress;
    private final Throttle throttle;
    private final int workers;
    private final AtomicLong dataBytes = new AtomicLong();
    private final AtomicLong holeBytes = new AtomicLong();
    private final Settled settled;
    /** Chunks written beyond the watermark, start to end; at most about one per worker waits here. */
    private final TreeMap<Long, Long> finishedAhead = new TreeMap<>();

    private long watermark;

    /**
     * Hears, from a copying thread, that every byte of the range before {@code offset} is written (not yet synced), and
     * how many data bytes the copy has written so far (anywhere).
     */
    @FunctionalInterface
    interface Settled {
        Settled NONE = (offset, dataWritten) -> {};

        void upTo(long offset, long dataWritten) throws IOException;
    }

    ImageCopier(
            ImageSource source,
            ImageSink sink,
            ProgressCounter progress,
            Throttle throttle,
            int workers,
            Settled settled) {
        this.source = source;
        this.sink = sink;
        this.progress = progress;
        this.throttle = throttle;
        this.workers = workers;
        this.settled = settled;
    }

    long dataBytes() {
        return dataBytes.get();
    }

    long holeBytes() {
        return holeBytes.get();
    }

    /** Copies {@code [from, to)}; returns once every byte of it is written (not yet synced). */
    void copy(long from, long to) throws IOException, CopyException {
        if (from >= to) return;
        watermark = from;
        ChunkPlan plan = new ChunkPlan(source, sink, from, to);
        if (workers == 1) {
            try (Arena arena = Arena.ofConfined()) {
                work(plan, NativeFile.directBuffer(arena, CHUNK));
            }
            return;
        }
        try (Arena arena = Arena.ofShared();
                ExecutorService pool = Executors.newFixedThreadPool(
                        workers, Thread.ofPlatform().name("lk-copy-", 0).factory())) {
            List<Future<Void>> running = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                MemorySegment buffer = NativeFile.directBuffer(arena, CHUNK);
                running.add(pool.submit(() -> {
                    try {
                        work(plan, buffer);
                    } catch (Exception e) {
                        plan.abort();
                        throw e;
                    }
                    return null;
                }));
            }
            rethrowFirstFailure(running);
        }
    }

    private static void rethrowFirstFailure(List<Future<Void>> running) throws IOException, CopyException {
        Throwable first = null;
        for (Future<Void> future : running) {
            try {
                future.get();
            } catch (ExecutionException e) {
                if (first == null) first = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CopyException("interrupted while copying");
            }
        }
        switch (first) {
            case null -> {}
            case IOException e -> throw e;
            case CopyException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(first);
        }
    }

    private void work(ChunkPlan plan, MemorySegment buffer) throws IOException, CopyException {
        for (Chunk chunk = plan.next(); chunk != null; chunk = plan.next()) {
            if (chunk.hole()) {
                sink.fillHole(chunk.start(), chunk.length());
                holeBytes.addAndGet(chunk.length());
            } else {
                copyData(chunk, buffer);
            }
            progress.advance(chunk.length());
            finished(chunk);
        }
    }

    /** Chunks are handed out in order, so the watermark moves once the oldest unfinished one is done. */
    private synchronized void finished(Chunk chunk) throws IOException {
        if (chunk.start() != watermark) {
            finishedAhead.put(chunk.start(), chunk.end());
            return;
        }
        watermark = chunk.end();
        for (Long next = finishedAhead.remove(watermark); next != null; next = finishedAhead.remove(watermark))
            watermark = next;
        settled.upTo(watermark, dataBytes.get());
    }

    private void copyData(Chunk chunk, MemorySegment buffer) throws IOException, CopyException {
        long bufferStart = readChunk(source, chunk, buffer);
        throttle.acquire(chunk.length());
        splitZeroRuns(buffer, bufferStart, chunk, (from, to, zero) -> emit(buffer, bufferStart, from, to, zero));
    }

    /** Reads a data chunk into {@code buffer}; returns the file offset of the buffer's index 0 (block-aligned). */
    static long readChunk(ImageSource source, Chunk chunk, MemorySegment buffer) throws ErrnoException, CopyException {
        long bufferStart = chunk.start() / BLOCK * BLOCK;
        long wanted = chunk.end() - bufferStart;
        long readLength = source.direct ? (wanted + BLOCK - 1) / BLOCK * BLOCK : wanted;
        long got = source.file.read(buffer, readLength, bufferStart);
        if (got < wanted) throw SizelessContent.shrank(source.file, source.size);
        return bufferStart;
    }

    /** Where the runs of one data chunk go: all-zero runs become holes, the rest is written (or sent). */
    @FunctionalInterface
    interface Runs {
        void run(long from, long to, boolean zero) throws IOException;
    }

    /** Cuts a chunk read by {@link #readChunk} into alternating runs of all-zero and data blocks. */
    static void splitZeroRuns(MemorySegment buffer, long bufferStart, Chunk chunk, Runs runs) throws IOException {
        // block edges are absolute offsets, so holes stay block-aligned
        long runStart = chunk.start();
        boolean runIsZero = false;
        for (long block = bufferStart; block < chunk.end(); block += BLOCK) {
            long from = Math.max(block, chunk.start());
            long to = Math.min(block + BLOCK, chunk.end());
            boolean zero = NativeMemory.isZero(buffer, from - bufferStart, to - from);
            if (from == chunk.start()) {
                runIsZero = zero;
            } else if (zero != runIsZero) {
                runs.run(runStart, from, runIsZero);
                runStart = from;
                runIsZero = zero;
            }
        }
        runs.run(runStart, chunk.end(), runIsZero);
    }

    private void emit(MemorySegment buffer, long bufferStart, long from, long to, boolean zero) throws ErrnoException {
        if (zero) {
            sink.zeroRun(from, to - from);
            holeBytes.addAndGet(to - from);
        } else {
            if (source.scan == ScanType.ZERO_SCAN) sink.reserveRun(from, to - from);
            sink.write(buffer, bufferStart, from, to - from);
            dataBytes.addAndGet(to - from);
        }
    }

    record Chunk(long start, long end, boolean hole) {
        long length() {
            return end - start;
        }
    }

    /**
     * The single walk over the source: SEEK_DATA/SEEK_HOLE where the source reports extents, otherwise every
     * byte is data to be zero-scanned. Data is cut at 4 MiB boundaries so chunks stay aligned. Each data extent
     * is reserved on the target as it is found, before any worker writes into it (a source that streams to another
     * node passes no sink: the receiving side reserves).
     */
    static final class ChunkPlan {
        private final ImageSource source;
        private final ImageSink sink;
        private final long end;
        private long position;
        private long dataEnd;
        private boolean aborted;

        ChunkPlan(ImageSource source, ImageSink sink, long from, long to) {
            this.source = source;
            this.sink = sink;
            this.position = from;
            this.end = to;
            this.dataEnd = source.scan == ScanType.EXTENTS ? from : to;
        }

        synchronized void abort() {
            aborted = true;
        }

        synchronized Chunk next() throws ErrnoException {
            if (aborted || position >= end) return null;
            if (position >= dataEnd) {
                long data = source.file.nextData(position);
                if (data < 0 || data > end) data = end;
                if (data > position) {
                    Chunk hole = new Chunk(position, data, true);
                    position = data;
                    return hole;
                }
                dataEnd = Math.min(source.file.nextHole(data), end);
                if (sink != null) sink.reserve(data, dataEnd - data);
            }
            long stop = Math.min(dataEnd, position / CHUNK * CHUNK + CHUNK);
            Chunk data = new Chunk(position, stop, false);
            position = stop;
            return data;
        }
    }
}
