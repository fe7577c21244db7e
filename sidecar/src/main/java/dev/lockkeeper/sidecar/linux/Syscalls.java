package dev.lockkeeper.sidecar.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The Linux system calls the JDK does not expose (or exposes without the file descriptor we need), all through
 * libc's generic {@code syscall(2)}: one downcall handle instead of one per function. Linking a handle costs the
 * JVM tens of milliseconds per distinct signature on a small node, which a short copy would pay at start-up.
 * Errno is captured with the call, because the JVM may clobber it before a later read.
 */
@SuppressWarnings("restricted") // this package is the one place allowed to call native code
final class Syscalls {
    /**
     * The architectures whose system call numbers and open(2) flag values are written down below. Any other one
     * (s390x, ppc64le, riscv64) is refused when this class is first used: with the wrong table the same arguments
     * would go to different system calls.
     */
    enum Architecture {
        X86_64,
        AARCH64;

        /** {@code osArch} as the JVM's {@code os.arch} names it. */
        static Architecture of(String osArch) {
            return switch (osArch) {
                case "amd64", "x86_64" -> X86_64;
                case "aarch64" -> AARCH64;
                default ->
                    throw new UnsupportedPlatformException(
                            "this machine's architecture " + osArch
                                    + " is not supported: lockkeeper-sidecar knows the Linux system call numbers of x86_64 (amd64) and aarch64 only");
            };
        }
    }

    static final Architecture ARCHITECTURE = Architecture.of(System.getProperty("os.arch"));
    static final boolean AARCH64 = ARCHITECTURE == Architecture.AARCH64;

    // system call numbers: x86_64 (arch/x86/entry/syscalls/syscall_64.tbl) and the generic table aarch64 uses
    static final int SYS_IOCTL = AARCH64 ? 29 : 16;
    static final int SYS_FALLOCATE = AARCH64 ? 47 : 285;
    static final int SYS_FTRUNCATE = AARCH64 ? 46 : 77;
    static final int SYS_OPENAT = AARCH64 ? 56 : 257;
    static final int SYS_CLOSE = AARCH64 ? 57 : 3;
    static final int SYS_LSEEK = AARCH64 ? 62 : 8;
    static final int SYS_PREAD64 = AARCH64 ? 67 : 17;
    static final int SYS_PWRITE64 = AARCH64 ? 68 : 18;
    static final int SYS_FSYNC = AARCH64 ? 82 : 74;
    static final int SYS_FDATASYNC = AARCH64 ? 83 : 75;
    static final int SYS_SYNC_FILE_RANGE = AARCH64 ? 84 : 277;
    static final int SYS_FADVISE64 = AARCH64 ? 223 : 221;
    static final int SYS_SYNCFS = AARCH64 ? 267 : 306;
    static final int SYS_COPY_FILE_RANGE = AARCH64 ? 285 : 326;
    static final int SYS_STATX = AARCH64 ? 291 : 332;
    static final int SYS_FCHMOD = AARCH64 ? 52 : 91;
    static final int SYS_FCHOWN = AARCH64 ? 55 : 93;
    static final int SYS_FCHOWNAT = AARCH64 ? 54 : 260;
    static final int SYS_UTIMENSAT = AARCH64 ? 88 : 280;
    static final int SYS_LSETXATTR = AARCH64 ? 6 : 189;
    static final int SYS_FSETXATTR = AARCH64 ? 7 : 190;
    static final int SYS_LGETXATTR = AARCH64 ? 9 : 192;
    static final int SYS_FGETXATTR = AARCH64 ? 10 : 193;
    static final int SYS_LLISTXATTR = AARCH64 ? 12 : 195;
    static final int SYS_FLISTXATTR = AARCH64 ? 13 : 196;
    static final int SYS_GETDENTS64 = AARCH64 ? 61 : 217;
    static final int SYS_MKDIRAT = AARCH64 ? 34 : 258;
    static final int SYS_UNLINKAT = AARCH64 ? 35 : 263;
    static final int SYS_LINKAT = AARCH64 ? 37 : 265;
    static final int SYS_SYMLINKAT = AARCH64 ? 36 : 266;
    static final int SYS_READLINKAT = AARCH64 ? 78 : 267;
    static final int SYS_MMAP = AARCH64 ? 222 : 9;
    static final int SYS_MUNMAP = AARCH64 ? 215 : 11;
    static final int SYS_MADVISE = AARCH64 ? 233 : 28;
    static final int SYS_OPENAT2 = 437; // the same number on every architecture (added after the tables merged)

    // open(2) flags that differ between x86_64 and the generic (aarch64) ABI
    static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_CLOEXEC = 02000000;
    static final int O_DIRECT = AARCH64 ? 0200000 : 040000;
    static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
    static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
    static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    static final int STATX_BASIC_STATS = 0x7ff, STATX_MNT_ID = 0x1000;
    static final long UTIME_OMIT = (1L << 30) - 2;
    static final int SEEK_DATA = 3, SEEK_HOLE = 4;
    static final long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;
    static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
    static final int POSIX_FADV_DONTNEED = 4;
    static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20; // the same on both
    static final int MADV_HUGEPAGE = 14;
    static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;
    // <linux/fs.h>: _IOR(0x12, 114, size_t), _IO(0x12, 127)
    static final long BLKGETSIZE64 = 0x80081272L, BLKZEROOUT = 0x127fL;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CALL_STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));
    /** {@code long syscall(long number, ...)}; every argument is passed as a long (pointers by address). */
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"),
            Linker.Option.firstVariadicArg(1));

    private Syscalls() {}

    /** Runs a system call; returns its result, or -1 with {@link #lastErrno()} set by this thread's call. */
    static long call(int number, long a, long b, long c, long d, long e, long f) {
        try {
            return (long) SYSCALL.invokeExact(CALL_STATE_SEGMENT.get(), (long) number, a, b, c, d, e, f);
        } catch (Throwable t) {
            throw new IllegalStateException("syscall " + number + " could not be invoked", t);
        }
    }

    static long call(int number, long a, long b, long c, long d) {
        return call(number, a, b, c, d, 0, 0);
    }

    static long call(int number, long a, long b, long c) {
        return call(number, a, b, c, 0, 0, 0);
    }

    static long call(int number, long a, long b) {
        return call(number, a, b, 0, 0, 0, 0);
    }

    static long call(int number, long a) {
        return call(number, a, 0, 0, 0, 0, 0);
    }

    static int lastErrno() {
        return (int) ERRNO.get(CALL_STATE_SEGMENT.get(), 0L);
    }

    static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) StrError.HANDLE.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable e) {
            return "errno " + errno;
        }
    }

    /** Linked on first use: only a failure that is shown to someone needs the kernel's wording. */
    private static final class StrError {
        static final MethodHandle HANDLE = LINKER.downcallHandle(
                LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }
}
