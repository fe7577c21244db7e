package dev.lockkeeper.sidecar.linux;

import java.io.IOException;
import java.nio.file.Path;

/** A failed system call: which call, on which file, and the kernel's reason. */
public final class ErrnoException extends IOException {
    private final Errno errno;

    ErrnoException(String call, Path path, int code) {
        super(call + " " + path + ": " + Syscalls.describe(code) + " (" + nameOf(code) + ")");
        this.errno = Errno.of(code);
    }

    private static String nameOf(int code) {
        Errno known = Errno.of(code);
        return known == Errno.OTHER ? "errno " + code : known.name();
    }

    public Errno errno() {
        return errno;
    }
}
