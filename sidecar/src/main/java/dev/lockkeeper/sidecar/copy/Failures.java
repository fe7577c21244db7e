package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.ErrnoException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** Turns a failed system call into a message that says what went wrong in the copy's terms. */
final class Failures {
    private Failures() {}

    static CopyException explain(IOException e) {
        switch (e) {
            case AccessDeniedException denied -> {
                return new CopyException("permission denied: " + denied.getFile(), e);
            }
            case NoSuchFileException missing -> {
                return new CopyException(missing.getFile() + " disappeared during the copy", e);
            }
            case FileAlreadyExistsException exists -> {
                return new CopyException(exists.getFile() + " already exists", e);
            }
            case ErrnoException ignored -> {}
            default -> {
                return new CopyException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
            }
        }
        ErrnoException failed = (ErrnoException) e;
        String detail = failed.getMessage();
        return switch (failed.errno()) {
            case ENOSPC, EDQUOT, EFBIG -> new CopyException("target ran out of space: " + detail, e);
            case EACCES, EPERM -> new CopyException("permission denied: " + detail, e);
            case EROFS -> new CopyException("target is read-only: " + detail, e);
            case EIO -> new CopyException("I/O error (the disk or device reported a failure): " + detail, e);
            case ELOOP -> new CopyException("refusing to follow a symbolic link: " + detail, e);
            default -> new CopyException(detail, e);
        };
    }
}
