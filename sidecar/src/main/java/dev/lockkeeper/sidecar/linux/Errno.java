package dev.lockkeeper.sidecar.linux;

import java.util.Arrays;

/** The errno values the copier reacts to; numbers are the generic Linux ones (same on x86_64 and aarch64). */
public enum Errno {
    EPERM(1),
    ENOENT(2),
    EINTR(4),
    EIO(5),
    ENXIO(6),
    EBADF(9),
    EAGAIN(11),
    ENOMEM(12),
    EACCES(13),
    EBUSY(16),
    EEXIST(17),
    EXDEV(18),
    ENODEV(19),
    ENOTDIR(20),
    EISDIR(21),
    EINVAL(22),
    ENOTTY(25),
    EFBIG(27),
    ENOSPC(28),
    ESPIPE(29),
    EROFS(30),
    ERANGE(34),
    ENOSYS(38),
    ELOOP(40),
    ENODATA(61),
    EOPNOTSUPP(95),
    EDQUOT(122),
    OTHER(-1);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    public static Errno of(int code) {
        return Arrays.stream(values()).filter(e -> e.code == code).findFirst().orElse(OTHER);
    }

    /**
     * The kernel or filesystem cannot do this operation on this file (as opposed to a real I/O failure):
     * the caller should fall back to a plainer method.
     */
    public boolean meansUnsupported() {
        return this == EOPNOTSUPP
                || this == EINVAL
                || this == ENOSYS
                || this == ENOTTY
                || this == EXDEV
                || this == ENODEV
                || this == ESPIPE;
    }

    public boolean meansNoSpace() {
        return this == ENOSPC || this == EDQUOT || this == EFBIG;
    }
}
