package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.lang.foreign.MemorySegment;
import java.util.function.LongConsumer;

/**
 * Copies one file of a tree into a freshly created file: SEEK_DATA/SEEK_HOLE finds the data extents (holes
 * are never read and stay holes), copy_file_range moves each extent inside the kernel (a reflink or
 * server-side copy where the filesystem can), falling back to read/write through the caller's buffer where
 * it cannot (EXDEV across filesystem types, EINVAL on some special files). Every {@value #WRITE_BEHIND_WINDOW}
 * bytes the previous window is flushed and dropped from the page cache, so a large file in a tree cannot fill
 * memory with dirty pages.
 */
final class FileDataCopier {
    static final long WRITE_BEHIND_WINDOW = 8 << 20;

    private final MemorySegment buffer;
    private boolean kernelCopyUnsupported;
    private LongConsumer progress;

    FileDataCopier(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /**
     * Returns the data bytes copied; when that is less than {@code size} the caller sets the final size (a
     * trailing hole) with truncate. {@code mayHaveHoles} false (all blocks allocated, as for nearly every small
     * file) copies the whole file without asking for extents, as coreutils does: two lseeks fewer per file.
     * {@code progress} hears of the data bytes as they are copied (holes are the caller's to count).
     */
    long copy(NativeFile source, NativeFile target, long size, boolean mayHaveHoles, LongConsumer progress)
            throws ErrnoException, CopyException {
        this.progress = progress;
        if (!mayHaveHoles) {
            copyExtent(source, target, 0, size, size);
            return size;
        }
        long copied = 0;
        long position = 0;
        while (position < size) {
            long data = dataFrom(source, position, size);
            if (data >= size) break;
            long hole = Math.min(holeFrom(source, data, size), size);
            copyExtent(source, target, data, hole, size);
            copied += hole - data;
            position = hole;
        }
        return copied;
    }

    private static long dataFrom(NativeFile source, long position, long size) throws ErrnoException {
        try {
            long data = source.nextData(position);
            return data < 0 ? size : data;
        } catch (ErrnoException e) {
            if (e.errno().meansUnsupported()) return position;
            throw e;
        }
    }

    private static long holeFrom(NativeFile source, long data, long size) throws ErrnoException {
        try {
            return source.nextHole(data);
        } catch (ErrnoException e) {
            if (e.errno().meansUnsupported()) return size;
            throw e;
        }
    }

    /** {@code size}: the source's size when the copy began, for the message if it has shrunk since. */
    private void copyExtent(NativeFile source, NativeFile target, long start, long end, long size)
            throws ErrnoException, CopyException {
        long position = start;
        while (position < end) {
            long step = Math.min(end - position, kernelCopyUnsupported ? buffer.byteSize() : WRITE_BEHIND_WINDOW);
            long moved = kernelCopyUnsupported
                    ? readWrite(source, target, position, step)
                    : kernelCopy(source, target, position, step);
            if (moved == 0) throw SizelessContent.shrank(source, size);
            if (moved < 0) continue;
            writeBehind(target, position, moved);
            position += moved;
            progress.accept(moved);
        }
    }

    /** Returns -1 (and switches to read/write for the rest of this copier's life) when the kernel cannot copy. */
    private long kernelCopy(NativeFile source, NativeFile target, long position, long length) throws ErrnoException {
        try {
            return source.copyRangeTo(target, position, length);
        } catch (ErrnoException e) {
            if (!e.errno().meansUnsupported()) throw e;
            kernelCopyUnsupported = true;
            return -1;
        }
    }

    private long readWrite(NativeFile source, NativeFile target, long position, long length) throws ErrnoException {
        long got = source.read(buffer, length, position);
        target.writeFully(buffer, got, position);
        return got;
    }

    private static void writeBehind(NativeFile target, long position, long length) throws ErrnoException {
        long windowEnd = position + length;
        if (windowEnd < WRITE_BEHIND_WINDOW) return;
        target.startWriteback(position, length);
        long previous = windowEnd - 2 * WRITE_BEHIND_WINDOW;
        if (previous > 0) {
            target.awaitWriteback(0, previous);
            target.dropCache(0, previous);
        }
    }
}
