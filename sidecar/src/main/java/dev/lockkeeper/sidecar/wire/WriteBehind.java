package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.Threads;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The target's bounded write-behind: the connection's reader receives each DATA frame into one of a fixed set of
 * aligned buffers and hands it to writer threads, which check its CRC32C and write it, so receiving (and decrypting)
 * the next frame overlaps checking and writing the last one.
 * <ul>
 * <li><b>Bounded</b>: {@code slots} buffers of {@link Frames#MAX_DATA_PAYLOAD} bytes (plus alignment), allocated
 *     once. A reader that finds no free buffer waits and stops reading the socket, so TCP carries the backpressure to
 *     the source: a slow disk never makes the target hold more than {@link #boundBytes}. Zero runs hold no buffer;
 *     at most {@value #MAX_QUEUED} jobs of any kind wait.</li>
 * <li><b>Durable before claimed</b>: jobs are taken in the order they were handed over; a {@link #durable} point
 *     runs only once every job before it is done, then syncs the disk, then runs its action (the checkpoint record).
 *     </li>
 * <li><b>Failures are kept</b>: the first failure of a writer (ENOSPC, EIO, a failing checkpoint record) stops all
 *     writing; the reader sees it at its next hand-off, while waiting for a buffer, or in {@link #drain}.</li>
 * <li><b>A corrupt frame is never written</b>: a writer that finds a frame's CRC wrong leaves it out and lets no
 *     durability point after it run; the frames before it are still written, so what arrived below
 *     {@link #claimable} can be checkpointed, and the reader hears of it from {@link #throwIfCorrupt}.</li>
 * </ul>
 */
final class WriteBehind implements AutoCloseable {
    private static final int ALIGNMENT = NativeFile.DIRECT_IO_ALIGNMENT;
    static final int SLOT_BYTES = Frames.MAX_DATA_PAYLOAD + ALIGNMENT;
    /** Jobs waiting at most: data jobs are bounded by the buffers, this bounds zero runs and durability points. */
    static final int MAX_QUEUED = 256;

    /** Where the jobs land: the target (or, in tests, a target with a seam in front of it). */
    interface Disk {
        /** As {@link dev.lockkeeper.sidecar.copy.ImageStreamTarget#data}. */
        void data(MemorySegment buffer, long bufferStart, long offset, long length) throws CopyException;

        void zero(long offset, long length) throws CopyException;

        void makeDurable() throws CopyException;
    }

    /** What runs once the data before a durability point is on stable storage. */
    interface Action {
        void run() throws Exception;
    }

    private sealed interface Job {}

    private record Data(MemorySegment slot, long bufferStart, Frames.Header frame) implements Job {
        MemorySegment payload() {
            return slot.asSlice(frame.offset() - bufferStart, frame.length());
        }
    }

    private record Zero(long offset, long length) implements Job {}

    private record Durable(Action then) implements Job {}

    private record Queued(long sequence, Job job) {}

    private final Disk disk;
    private final Arena arena = Arena.ofShared();
    private final int slots;
    private final ArrayDeque<MemorySegment> free = new ArrayDeque<>();
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    /** Sequence numbers of jobs a writer has taken and not finished. */
    private final TreeSet<Long> running = new TreeSet<>();

    private final List<Thread> writers = new ArrayList<>();
    private long nextSequence;
    private boolean closed;
    private CopyException failure;
    /** The corrupt frame with the lowest offset a writer found, or null. */
    private Corruption corrupt;

    private record Corruption(long offset, FrameException.Corrupt failure) {}

    WriteBehind(Disk disk, int slots, int writerCount) {
        if (slots < 1 || writerCount < 1)
            throw new IllegalArgumentException(slots + " buffers, " + writerCount + " writers");
        this.disk = disk;
        this.slots = slots;
        try {
            for (int i = 0; i < slots; i++) free.add(NativeFile.directBuffer(arena, SLOT_BYTES));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        for (int i = 0; i < writerCount; i++) {
            writers.add(
                    Thread.ofPlatform().name("lk-target-writer-" + i).daemon().start(this::write));
        }
    }

    /** The most frame payload this write-behind ever holds: its buffers. */
    long boundBytes() {
        return (long) slots * SLOT_BYTES;
    }

    /**
     * A free buffer for the next DATA frame ({@link #SLOT_BYTES}, aligned), waiting while every buffer is queued or
     * being written; hand it back with {@link #data}, or with {@link #giveBack} if the frame turns out bad.
     */
    synchronized MemorySegment slot() throws CopyException {
        while (free.isEmpty()) {
            throwIfFailed();
            await();
        }
        throwIfFailed();
        return free.poll();
    }

    synchronized void giveBack(MemorySegment slot) {
        free.add(slot);
        notifyAll();
    }

    /**
     * Checks and writes a DATA frame received (unchecked) into {@code slot}, whose index 0 holds the byte at
     * {@code bufferStart}.
     */
    void data(MemorySegment slot, long bufferStart, Frames.Header frame) throws CopyException {
        submit(new Data(slot, bufferStart, frame));
    }

    void zero(long offset, long length) throws CopyException {
        submit(new Zero(offset, length));
    }

    /** Once every job handed over before this one is written: the disk is synced, then {@code then} runs. */
    void durable(Action then) throws CopyException {
        submit(new Durable(then));
    }

    /** Waits until everything handed over is written (not synced); a writer's failure is thrown here. */
    synchronized void drain() throws CopyException {
        while (!queue.isEmpty() || !running.isEmpty()) {
            throwIfFailed();
            await();
        }
        throwIfFailed();
    }

    /** A frame handed over so far failed its CRC: the transfer cannot go on past it. */
    synchronized void throwIfCorrupt() throws FrameException.Corrupt {
        if (corrupt != null) throw corrupt.failure();
    }

    /**
     * How far a checkpoint may claim, once {@link #drain}ed, of the {@code received} bytes: all of them, or up to the
     * first corrupt frame.
     */
    synchronized long claimable(long received) {
        return corrupt == null ? received : Math.min(received, corrupt.offset());
    }

    /** Buffers waiting or being written (the rest are free): what the reader has received ahead of the disk. */
    synchronized int slotsInUse() {
        return slots - free.size();
    }

    private synchronized void submit(Job job) throws CopyException {
        try {
            while (queue.size() >= MAX_QUEUED) {
                throwIfFailed();
                await();
            }
            throwIfFailed();
        } catch (CopyException e) {
            if (job instanceof Data data) giveBack(data.slot());
            throw e;
        }
        queue.add(new Queued(nextSequence++, job));
        notifyAll();
    }

    private void throwIfFailed() throws CopyException {
        if (failure != null) throw new CopyException(failure.getMessage(), failure);
        if (closed) throw new IllegalStateException("the write-behind is closed");
    }

    private void await() throws CopyException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CopyException("interrupted while waiting for the target's writes");
        }
    }

    private void write() {
        while (true) {
            Queued next;
            synchronized (this) {
                while (queue.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // only close() stops a writer, once the queue is empty
                    }
                }
                if (queue.isEmpty()) return;
                next = queue.poll();
                running.add(next.sequence());
                notifyAll();
            }
            try {
                run(next);
            } catch (Exception e) {
                fail(e);
            } finally {
                synchronized (this) {
                    running.remove(next.sequence());
                    if (next.job() instanceof Data data) free.add(data.slot());
                    notifyAll();
                }
            }
        }
    }

    private void run(Queued next) throws Exception {
        if (skipping()) return;
        switch (next.job()) {
            case Data data -> {
                try {
                    Frames.checkData(data.frame(), data.payload());
                } catch (FrameException.Corrupt e) {
                    corrupted(data.frame().offset(), e);
                    return;
                }
                disk.data(
                        data.slot(),
                        data.bufferStart(),
                        data.frame().offset(),
                        data.frame().length());
            }
            case Zero zero -> disk.zero(zero.offset(), zero.length());
            case Durable durable -> {
                if (!awaitEarlier(next.sequence())) return;
                disk.makeDurable();
                durable.then().run();
            }
        }
    }

    /**
     * Whether every job before {@code sequence} finished without failure and without a corrupt frame (they were all
     * taken already: FIFO).
     */
    private synchronized boolean awaitEarlier(long sequence) throws InterruptedException {
        while (!running.isEmpty() && running.first() < sequence) wait();
        return failure == null && corrupt == null;
    }

    /**
     * Not a failure of the disk: the jobs after it still run (one taken before it may not have started yet, and a
     * checkpoint up to {@link #claimable} counts on it), only durability points stop.
     */
    private synchronized void corrupted(long offset, FrameException.Corrupt e) {
        if (corrupt == null || offset < corrupt.offset()) {
            corrupt = new Corruption(offset, e);
        }
        notifyAll();
    }

    /** After a failure nothing more is written; after {@link #close} what is still queued is left too. */
    private synchronized boolean skipping() {
        return failure != null || closed;
    }

    private synchronized void fail(Exception e) {
        if (failure != null) return;
        failure = e instanceof CopyException copy
                ? copy
                : new CopyException("the target's writer failed: " + e.getMessage(), e);
        notifyAll();
    }

    /**
     * Stops the writers (what is still queued is skipped, a write under way finishes), then releases the buffers;
     * a caller that wants the queued data on disk calls {@link #drain} first.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        Threads.awaitEnd(writers);
        arena.close();
    }
}
