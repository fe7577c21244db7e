package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one place that decides what a source hole becomes on the target. Regular-file targets are created fresh
 * (or preallocated up front), so their holes are left alone; block targets may hold old data, so a hole must be
 * made to read back as zeros there unless the caller vouches that the device is already zero. (Zero runs inside
 * the data extents a fresh file reserved are a different matter, blocks this copy allocated itself: ImageSink
 * gives those back.)
 */
enum Holes {
    /** Fresh or preallocated file, or a device known to be zero: nothing to do. */
    LEAVE,
    /** Device, sparse copy: deallocate (keeps thin storage thin); the kernel guarantees the range then reads zeros. */
    DEALLOCATE,
    /** Device, preallocated copy: write zeros but keep the blocks allocated (BLKZEROOUT uses NOUNMAP). */
    WRITE_ZEROS;

    private static final int SECTOR = 512;
    private static final int ZERO_BUFFER_SIZE = 1 << 20;
    private static final MemorySegment ZEROS = NativeFile.directBuffer(Arena.global(), ZERO_BUFFER_SIZE);

    /**
     * What one target device turned out not to support. Loop devices over some filesystems and many SCSI/virtio
     * disks lack one of the offloads; remembering it per target avoids a failing syscall for every hole.
     */
    static final class Offloads {
        private final AtomicBoolean deallocateUnsupported = new AtomicBoolean();
        private final AtomicBoolean zeroOutUnsupported = new AtomicBoolean();
    }

    static Holes forDevice(boolean preallocate, boolean targetIsZero) {
        if (targetIsZero) return LEAVE;
        return preallocate ? WRITE_ZEROS : DEALLOCATE;
    }

    /** Makes {@code [offset, offset+length)} of {@code target} (opened without O_DIRECT) read back as zeros. */
    void fill(NativeFile target, Offloads offloads, long offset, long length) throws ErrnoException {
        if (this == LEAVE || length == 0) return;
        // the block-layer offloads take whole 512-byte sectors; a file source's last hole may end mid-sector
        long end = offset + length;
        long alignedStart = Math.min(end, (offset + SECTOR - 1) / SECTOR * SECTOR);
        long alignedEnd = Math.max(alignedStart, end / SECTOR * SECTOR);
        writeZeros(target, offset, alignedStart - offset);
        writeZeros(target, alignedEnd, end - alignedEnd);
        if (alignedEnd > alignedStart) fillSectors(target, offloads, alignedStart, alignedEnd - alignedStart);
    }

    private void fillSectors(NativeFile target, Offloads offloads, long offset, long length) throws ErrnoException {
        if (this == DEALLOCATE && !offloads.deallocateUnsupported.get()) {
            try {
                target.punchHole(offset, length);
                return;
            } catch (ErrnoException e) {
                if (!e.errno().meansUnsupported()) throw e;
                offloads.deallocateUnsupported.set(true);
            }
        }
        if (!offloads.zeroOutUnsupported.get()) {
            try {
                target.blockZeroOut(offset, length);
                return;
            } catch (ErrnoException e) {
                if (!e.errno().meansUnsupported()) throw e;
                offloads.zeroOutUnsupported.set(true);
            }
        }
        writeZeros(target, offset, length);
    }

    private static void writeZeros(NativeFile target, long offset, long length) throws ErrnoException {
        for (long done = 0; done < length; ) {
            long n = Math.min(ZERO_BUFFER_SIZE, length - done);
            target.writeFully(ZEROS, n, offset + done);
            done += n;
        }
    }
}
