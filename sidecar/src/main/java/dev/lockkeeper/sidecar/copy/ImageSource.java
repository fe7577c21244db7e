package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.nio.file.Path;

/**
 * A raw image to read: a block device or a regular file, opened with O_DIRECT where the filesystem allows it
 * (cold reads straight from the disk, and the source's page cache is not evicted or grown by a big copy).
 * The scan type is decided once, here, like coreutils' {@code infer_scantype}.
 */
final class ImageSource implements AutoCloseable {
    final NativeFile file;
    final long size;
    final ScanType scan;
    final boolean direct;

    private ImageSource(NativeFile file, long size, ScanType scan, boolean direct) {
        this.file = file;
        this.size = size;
        this.scan = scan;
        this.direct = direct;
    }

    /** How to open the image with the given modes. */
    @FunctionalInterface
    private interface Opener {
        NativeFile open(Mode... modes) throws ErrnoException;
    }

    static ImageSource open(Path path, boolean noFollow) throws ErrnoException {
        Mode follow = noFollow ? Mode.NO_FOLLOW : Mode.READ;
        return open(modes -> NativeFile.open(path, modes), follow);
    }

    /** A regular file of a tree, opened beneath the tree's root (no symlink on the way, none at the end). */
    static ImageSource openInside(NativeFile root, TreePath file) throws ErrnoException {
        byte[] relative = file.bytes();
        return open(
                modes -> {
                    try {
                        return NativeFile.openBeneath(root, relative, modes);
                    } catch (ErrnoException e) {
                        // before Linux 5.6, or a seccomp profile from before openat2: only the last component is
                        // checked
                        if (e.errno() != Errno.ENOSYS && e.errno() != Errno.EPERM) throw e;
                        return root.openAt(relative, modes);
                    }
                },
                Mode.NO_FOLLOW);
    }

    private static ImageSource open(Opener opener, Mode follow) throws ErrnoException {
        NativeFile file;
        boolean direct = true;
        try {
            file = opener.open(Mode.READ, Mode.DIRECT, follow);
        } catch (ErrnoException e) {
            // tmpfs and some FUSE filesystems refuse O_DIRECT at open time
            if (e.errno() != Errno.EINVAL) throw e;
            file = opener.open(Mode.READ, follow);
            direct = false;
        }
        try {
            FileStat stat = file.stat();
            boolean block = stat.type() == FileStat.FileType.BLOCK_DEVICE;
            long size = block ? file.blockDeviceSize() : stat.size();
            return new ImageSource(file, size, block ? ScanType.ZERO_SCAN : scanTypeOf(file, size), direct);
        } catch (ErrnoException e) {
            file.close();
            throw e;
        }
    }

    /** SEEK_DATA works on every mainstream local filesystem; on a block device the kernel answers EINVAL. */
    private static ScanType scanTypeOf(NativeFile file, long size) throws ErrnoException {
        if (size == 0) return ScanType.NONE;
        try {
            file.nextData(0);
            return ScanType.EXTENTS;
        } catch (ErrnoException e) {
            if (e.errno().meansUnsupported()) return ScanType.ZERO_SCAN;
            throw e;
        }
    }

    Path path() {
        return file.path();
    }

    @Override
    public void close() throws ErrnoException {
        file.close();
    }
}
