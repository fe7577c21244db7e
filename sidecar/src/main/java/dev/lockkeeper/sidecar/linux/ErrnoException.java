package dev.lockkeeper.sidecar.linux;

import java.io.IOException;
import java.nio.file.Path;

/** A failed system call: which call, on which file, and the kernel's reason. */
public final class ErrnoException extends IOException {
    private final String call;
    private final String file;
    private final int code;
    private final Errno errno;

    ErrnoException(String call, Path path, int code) {
        this(call, path.toString(), code);
    }

    /** {@code file}: how messages show the file (a name that is not valid UTF-8 with its bytes escaped). */
    ErrnoException(String call, String file, int code) {
        this.call = call;
        this.file = file;
        this.code = code;
        this.errno = Errno.of(code);
    }

    /**
     * Composed when read: most of these exceptions are expected answers (ENOENT, EOPNOTSUPP) that are never
     * printed, and the kernel's wording comes from strerror, a native call whose first use costs a downcall link.
     */
    @Override
    public String getMessage() {
        return call + " " + file + ": " + Syscalls.describe(code) + " (" + nameOf(code) + ")";
    }

    private static String nameOf(int code) {
        Errno known = Errno.of(code);
        return known == Errno.OTHER ? "errno " + code : known.name();
    }

    public Errno errno() {
        return errno;
    }
}
