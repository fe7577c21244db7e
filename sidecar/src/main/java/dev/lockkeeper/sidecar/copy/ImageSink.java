package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.lang.foreign.MemorySegment;

/**
 * Where image bytes land. Aligned data goes through an O_DIRECT descriptor: nothing dirties the page cache,
 * so a copy inside a 600 MiB cgroup cannot be OOM-killed by its own writes (the upstream failure), and the
 * disk sees large writes at once. Unaligned edges and hole filling use a second, ordinary descriptor. When the
 * filesystem refuses O_DIRECT, every write goes through the ordinary descriptor and is written behind at once
 * (sync_file_range, then dropped from the cache), which bounds dirty memory the same way.
 *
 * <p>On a fresh file target the source's data extents are allocated ({@link #reserve}) before their bytes
 * are written: ext4 runs O_DIRECT writes into allocated blocks under a shared inode lock, side by side, but
 * serialises writes that allocate. Whole extents, in order, so the target's extents match the source's.
 */
final class ImageSink implements AutoCloseable {
    private static final long ALIGNMENT = NativeFile.DIRECT_IO_ALIGNMENT;

    private final NativeFile buffered;
    private final NativeFile direct;
    private final Holes holes;
    private final Holes.Offloads offloads = new Holes.Offloads();
    private volatile boolean allocateAhead;
    /** Whether any extent was reserved (a source without extents, such as a device, reserves none). */
    private volatile boolean reservedAny;

    private ImageSink(NativeFile buffered, NativeFile direct, Holes holes, boolean allocateAhead) {
        this.buffered = buffered;
        this.direct = direct;
        this.holes = holes;
        this.allocateAhead = allocateAhead && direct != null;
    }

    /** A file this copy created, sized but not preallocated; a direct twin is opened if possible. Takes {@code file} over. */
    static ImageSink overNewFile(NativeFile file) throws ErrnoException {
        return new ImageSink(file, directTwin(file), Holes.LEAVE, true);
    }

    /** A preallocated file or a block device, open for writing; a direct twin is opened if possible. Takes {@code file} over. */
    static ImageSink overAllocated(NativeFile file, Holes holes) throws ErrnoException {
        return new ImageSink(file, directTwin(file), holes, false);
    }

    /** Closes {@code file} when no sink can be made of it, so the caller's descriptor is never left open. */
    private static NativeFile directTwin(NativeFile file) throws ErrnoException {
        try {
            return file.reopen(Mode.WRITE, Mode.DIRECT);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EINVAL) return null;
            try {
                file.close();
            } catch (ErrnoException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    NativeFile file() {
        return buffered;
    }

    /**
     * Writes {@code [offset, offset+length)} from {@code buffer}, whose index 0 holds the byte at file offset
     * {@code bufferStart} (a multiple of the O_DIRECT alignment, as the buffer's address is).
     */
    void write(MemorySegment buffer, long bufferStart, long offset, long length) throws ErrnoException {
        if (direct == null) {
            buffered.writeFully(buffer.asSlice(offset - bufferStart), length, offset);
            buffered.awaitWriteback(offset, length);
            buffered.dropCache(offset, length);
            return;
        }
        long end = offset + length;
        long alignedStart = Math.min(end, alignUp(offset));
        long alignedEnd = Math.max(alignedStart, end / ALIGNMENT * ALIGNMENT);
        if (alignedStart > offset)
            buffered.writeFully(buffer.asSlice(offset - bufferStart), alignedStart - offset, offset);
        if (alignedEnd > alignedStart) {
            direct.writeFully(buffer.asSlice(alignedStart - bufferStart), alignedEnd - alignedStart, alignedStart);
        }
        if (end > alignedEnd) {
            buffered.writeFully(buffer.asSlice(alignedEnd - bufferStart), end - alignedEnd, alignedEnd);
        }
    }

    /** Allocates a data extent of the source that is about to be written, on a fresh file target; else nothing. */
    void reserve(long offset, long length) throws ErrnoException {
        if (!allocateAhead) return;
        try {
            buffered.allocate(offset, length);
            reservedAny = true;
        } catch (ErrnoException e) {
            // a filesystem without fallocate (some NFS and FUSE) takes the writes as they come
            if (!e.errno().meansUnsupported()) throw e;
            allocateAhead = false;
        }
    }

    /**
     * Allocates one run of data blocks of a source without extents (a zero-scanned device) just before it is written,
     * on a fresh file target; else nothing. The same reason as {@link #reserve}: writes into allocated blocks run side
     * by side. The run holds data only, so nothing is punched out again afterwards.
     */
    void reserveRun(long offset, long length) throws ErrnoException {
        if (!allocateAhead) return;
        try {
            buffered.allocate(offset, length);
        } catch (ErrnoException e) {
            if (!e.errno().meansUnsupported()) throw e;
            allocateAhead = false;
        }
    }

    /**
     * A run of all-zero blocks inside the source's data. On a fresh file its extent was reserved, so the run is
     * deallocated again: zeros become holes on every target, as they always did.
     */
    void zeroRun(long offset, long length) throws ErrnoException {
        if (!reservedAny) {
            fillHole(offset, length);
            return;
        }
        try {
            buffered.punchHole(offset, length);
        } catch (ErrnoException e) {
            // reserved blocks read back as zeros until written, so correctness does not depend on the punch
            if (!e.errno().meansUnsupported()) throw e;
        }
    }

    void fillHole(long offset, long length) throws ErrnoException {
        holes.fill(buffered, offloads, offset, length);
    }

    /** Writes zeros over {@code [0, length)} whatever the hole policy, and makes them durable: the target is unfinished again. */
    void zeroHeaderWindow(long length) throws ErrnoException {
        Holes.WRITE_ZEROS.fill(buffered, offloads, 0, length);
        makeDurable();
    }

    /** Data and metadata on stable storage (the device's volatile cache flushed too). */
    void makeDurable() throws ErrnoException {
        buffered.sync();
    }

    private static long alignUp(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    @Override
    public void close() throws ErrnoException {
        try {
            if (direct != null) direct.close();
        } finally {
            buffered.close();
        }
    }
}
