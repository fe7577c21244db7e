package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a copy argument names. The top-level argument itself may be a symlink (a person or kubelet chose it). */
sealed interface Volume {
    Path path();

    record BlockDevice(Path path, FileStat stat) implements Volume {}

    record ImageFile(Path path, FileStat stat) implements Volume {}

    record Directory(Path path, FileStat stat) implements Volume {}

    /** A target that does not exist yet: it becomes a file (or, for a directory source, a directory). */
    record Absent(Path path) implements Volume {}

    static Volume source(Path path) throws CopyException {
        try {
            return of(path, NativeFile.stat(path), "source");
        } catch (ErrnoException e) {
            throw switch (e.errno()) {
                case ENOENT -> new CopyException("source " + path + " does not exist");
                case EACCES, EPERM -> new CopyException("permission denied: cannot look up source " + path);
                default -> new CopyException("cannot inspect source " + path + ": " + e.getMessage(), e);
            };
        }
    }

    static Volume target(Path path) throws CopyException {
        try {
            return of(path, NativeFile.stat(path), "target");
        } catch (ErrnoException e) {
            if (e.errno() != Errno.ENOENT) {
                throw new CopyException("cannot inspect target " + path + ": " + e.getMessage(), e);
            }
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new CopyException(
                    "target " + path + " cannot be created: its parent directory " + parent + " does not exist");
        }
        return new Absent(path);
    }

    private static Volume of(Path path, FileStat stat, String role) throws CopyException {
        return switch (stat.type()) {
            case BLOCK_DEVICE -> new BlockDevice(path, stat);
            case REGULAR -> new ImageFile(path, stat);
            case DIRECTORY -> new Directory(path, stat);
            default ->
                throw new CopyException(role + " " + path + " is a "
                        + stat.type().name().toLowerCase().replace('_', ' ')
                        + "; expected a block device, a regular file or a directory");
        };
    }
}
