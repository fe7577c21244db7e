package dev.lockkeeper.sidecar.linux;

import java.io.IOException;
import java.nio.file.Path;

/** A failed system call: which call, on which file, and the kernel's reason. */
public final class ErrnoException extends IOException {
    private final String call;
    private final Path path;
    private final int code;
    private final Errno errno;

    ErrnoException(String call, Path path, int code) {
        this.call = call;
        this.path = path;
        this.code = code;
        this.errno = Errno.of(code);
    }

    /**
     * Composed when read: most of these exceptions are expected answers (ENOENT, EOPNOTSUPP) that are never
     * printed, and the kernel's wording comes from strerror, a native call whose first use costs a downcall link.
     */
    @Override
    public String getMessage() {
        return call + " " + path + ": " + Syscalls.describe(code) + " (" + nameOf(code) + ")";
    }

    private static String nameOf(int code) {
        Errno known = Errno.of(code);
        return known == Errno.OTHER ? "errno " + code : known.name();
    }

    public Errno errno() {
        return errno;
    }
}
