package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.copy.ImageCopier.Chunk;
import dev.lockkeeper.sidecar.copy.ImageCopier.ChunkPlan;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The engine's image walk, for a source that is sent rather than written: the same {@link ChunkPlan}
 * (SEEK_DATA/SEEK_HOLE, or every byte for a device) and the same 4 KiB zero split as a local copy, so the decision
 * "hole or data" is made in one place for both. Holes and zero runs are handed on as coalesced runs, data as the
 * bytes of one read, at most {@value ImageCopier#CHUNK} bytes each. A {@link ChunkReader} reads, zero-scans and
 * checksums the next chunk while the caller sends the last one, in {@value #BUFFERS} buffers: the caller's sends pace
 * the reads, so a slow receiver never makes this side read more than one chunk ahead.
 */
public final class ImageStreamSource implements AutoCloseable {
    /** Receives the walk in offset order; {@code bytes} is only valid during the call. */
    public interface Extents {
        /**
         * Runs on the reading thread, for each data run before it reaches {@link #data}: a checksum of the run the
         * caller would otherwise compute on its sending thread, here computed while the run before is being sent.
         * Must be safe to call from another thread.
         */
        int checksum(MemorySegment bytes, long offset);

        /** {@code checksum} is what {@link #checksum} returned for these bytes. */
        void data(MemorySegment bytes, long offset, int length, int checksum) throws IOException;

        void zero(long offset, long length) throws IOException;
    }

    /** One chunk being sent, one being read. */
    private static final int BUFFERS = 2;

    private final ImageSource image;
    private final FileStat stat;
    /** Shared: the reading thread fills the buffers, the caller's thread sends from them. */
    private final Arena arena = Arena.ofShared();

    private final List<MemorySegment> buffers = new ArrayList<>(BUFFERS);

    private ImageStreamSource(ImageSource image, FileStat stat) {
        this.image = image;
        this.stat = stat;
        for (int i = 0; i < BUFFERS; i++) buffers.add(NativeFile.directBuffer(arena, ImageCopier.CHUNK));
    }

    /**
     * Opens a task's source: a block device or image file as it is, or for {@code KUBEVIRT} content on a filesystem
     * volume, the volume's {@code disk.img} (a regular file in the root, never followed through a link).
     */
    public static ImageStreamSource open(Path volume, Content content) throws CopyException {
        Path path = volume;
        boolean noFollow = false;
        try {
            if (NativeFile.stat(volume).type() == FileStat.FileType.DIRECTORY) {
                if (content != Content.KUBEVIRT) {
                    throw new CopyException(
                            "source " + volume + " is a directory; only --content kubevirt streams it as an image");
                }
                path = volume.resolve(VolumeCopier.DISK_IMAGE);
                FileStat image = NativeFile.statNoFollow(path);
                if (image.type() != FileStat.FileType.REGULAR) {
                    throw new CopyException(
                            path + " is a " + image.type().name().toLowerCase().replace('_', ' ')
                                    + ", not a regular file; refusing to follow it");
                }
                noFollow = true;
            }
            ImageSource image = ImageSource.open(path, noFollow);
            try {
                return new ImageStreamSource(image, image.file.stat());
            } catch (ErrnoException e) {
                image.close();
                throw e;
            }
        } catch (ErrnoException e) {
            if (e.errno() == dev.lockkeeper.sidecar.linux.Errno.ENOENT) {
                throw new CopyException(
                        "source " + path + " does not exist"
                                + (path.equals(volume)
                                        ? ""
                                        : " (with --content kubevirt a filesystem volume carries its disk as disk.img)"),
                        e);
            }
            throw Failures.explain(e);
        }
    }

    public long size() {
        return image.size;
    }

    public boolean block() {
        return stat.type() == FileStat.FileType.BLOCK_DEVICE;
    }

    /** Bytes the source occupies on disk (a device's are unknown until read: 0). */
    public long allocatedBytes() {
        return block() ? 0 : Math.min(stat.allocatedBytes(), image.size);
    }

    /** Permission bits a file target takes over (a device's image becomes rw-r--r--, as in a local copy). */
    public int permissions() {
        return block() ? 0644 : stat.permissions();
    }

    public boolean extents() {
        return image.scan == ScanType.EXTENTS;
    }

    /**
     * What the source looked like when opened: type, identity, size and modification time. A device node's times do
     * not follow writes to the device, so for a device this names the device and its size only (the content digest
     * is what catches a device changed between attempts).
     */
    public String fingerprint() {
        return (block() ? "block:" : "file:") + stat.device() + ":" + stat.inode() + ":" + image.size
                + (block()
                        ? ""
                        : ":" + stat.modified().getEpochSecond() + "."
                                + stat.modified().getNano());
    }

    /** Walks {@code [from, to)} once, in order. */
    public void stream(long from, long to, Extents extents) throws IOException, CopyException {
        if (from < 0 || to > image.size || from > to) {
            throw new CopyException(
                    "range [" + from + ", " + to + ") is outside the source's " + image.size + " bytes");
        }
        long zeroStart = -1;
        long zeroEnd = -1;
        try (ChunkReader reader = new ChunkReader(new ChunkPlan(image, null, from, to), extents)) {
            for (ReadChunk chunk = reader.next(); chunk != null; chunk = reader.next()) {
                for (Run run : chunk.runs()) {
                    if (run.zero()) {
                        zeroStart = zeroStart < 0 ? run.from() : zeroStart;
                        zeroEnd = run.to();
                        continue;
                    }
                    if (zeroStart >= 0) extents.zero(zeroStart, zeroEnd - zeroStart);
                    zeroStart = -1;
                    extents.data(chunk.slice(run), run.from(), (int) (run.to() - run.from()), run.checksum());
                }
                reader.release(chunk);
            }
        }
        if (zeroStart >= 0) extents.zero(zeroStart, zeroEnd - zeroStart);
        checkUnchanged();
    }

    /** A stretch of one chunk that is all zeros (a hole, or zero blocks of data), or data and its checksum. */
    private record Run(long from, long to, boolean zero, int checksum) {}

    /** A chunk as the reader left it: a hole (no buffer), or data read into {@code buffer} and cut into runs. */
    private record ReadChunk(MemorySegment buffer, long bufferStart, List<Run> runs) {
        MemorySegment slice(Run run) {
            return buffer.asSlice(run.from() - bufferStart, run.to() - run.from());
        }
    }

    /**
     * Walks the plan on a platform thread of its own (its reads are blocking system calls, which would pin a virtual
     * thread's carrier), one chunk ahead of the caller: {@link #next} hands chunks over in order, {@link #release}
     * gives a buffer back. Closing it stops the walk and waits for the thread, so no read lands in a buffer after the
     * caller has let go of it.
     */
    private final class ChunkReader implements AutoCloseable {
        private static final Object END = new Object();

        private final ChunkPlan plan;
        private final Extents extents;
        private final BlockingQueue<MemorySegment> free = new ArrayBlockingQueue<>(BUFFERS);
        /** Holes take no buffer; this bounds how far a run of them gets ahead. */
        private final BlockingQueue<Object> ready = new ArrayBlockingQueue<>(64);

        private final Thread thread;

        ChunkReader(ChunkPlan plan, Extents extents) {
            this.plan = plan;
            this.extents = extents;
            free.addAll(buffers);
            this.thread = Thread.ofPlatform().name("lk-source-reader").daemon().start(this::walk);
        }

        private void walk() {
            try {
                for (Chunk chunk = plan.next(); chunk != null; chunk = plan.next()) {
                    if (chunk.hole()) {
                        ready.put(new ReadChunk(null, 0, List.of(new Run(chunk.start(), chunk.end(), true, 0))));
                        continue;
                    }
                    MemorySegment buffer = free.take();
                    long bufferStart = ImageCopier.readChunk(image, chunk, buffer);
                    List<Run> runs = new ArrayList<>(1);
                    ImageCopier.splitZeroRuns(buffer, bufferStart, chunk, (runFrom, runTo, zero) -> {
                        int checksum = zero
                                ? 0
                                : extents.checksum(buffer.asSlice(runFrom - bufferStart, runTo - runFrom), runFrom);
                        runs.add(new Run(runFrom, runTo, zero, checksum));
                    });
                    ready.put(new ReadChunk(buffer, bufferStart, runs));
                }
                ready.put(END);
            } catch (InterruptedException e) {
                // the caller stopped (closed): nothing more is wanted
            } catch (Exception | Error e) {
                ready.clear();
                ready.offer(e);
            }
        }

        /** The next chunk in offset order, or null after the last one. */
        ReadChunk next() throws IOException, CopyException {
            Object item;
            try {
                item = ready.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("stopped while reading the source");
            }
            return switch (item) {
                case ReadChunk chunk -> chunk;
                case IOException e -> throw e;
                case CopyException e -> throw e;
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                case Throwable e -> throw new IOException(e);
                default -> null;
            };
        }

        void release(ReadChunk chunk) {
            if (chunk.buffer() != null) free.add(chunk.buffer());
        }

        @Override
        public void close() {
            plan.abort();
            thread.interrupt();
            Threads.awaitEnd(List.of(thread));
        }
    }

    /** A regular source that changed size while being read is a torn image, not a copy. */
    public void checkUnchanged() throws IOException, CopyException {
        if (block()) return;
        FileStat now = image.file.stat();
        if (now.size() != stat.size() || !now.modified().equals(stat.modified())) {
            throw new CopyException("source " + image.path() + " changed during the copy (size " + stat.size() + " → "
                    + now.size() + " bytes, modified " + stat.modified() + " → " + now.modified()
                    + "); stop whatever writes to it and copy again");
        }
    }

    /** The engine's content digest of the whole image, read from the disk. */
    public String digest() throws CopyException {
        try {
            return ContentDigest.of(image, image.size);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    @Override
    public void close() throws ErrnoException {
        try {
            image.close();
        } finally {
            arena.close();
        }
    }
}
