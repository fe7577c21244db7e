package dev.lockkeeper.sidecar.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc entry points the JDK does not expose (or exposes without the file descriptor we need).
 * Every handle captures errno, because the JVM may clobber it between the call and a later read.
 */
final class Syscalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CALL_STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    static final boolean AARCH64 = System.getProperty("os.arch").equals("aarch64");
    // open(2) flags that differ between x86_64 and the generic (aarch64) ABI
    static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_CLOEXEC = 02000000;
    static final int O_DIRECT = AARCH64 ? 0200000 : 040000;
    static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
    static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
    static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    static final int STATX_BASIC_STATS = 0x7ff;
    static final int SEEK_DATA = 3, SEEK_HOLE = 4;
    static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    static final int POSIX_FADV_SEQUENTIAL = 2, POSIX_FADV_DONTNEED = 4;
    static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;
    // <linux/fs.h>: _IOR(0x12, 114, size_t), _IO(0x12, 127), _IO(0x12, 119)
    static final long BLKGETSIZE64 = 0x80081272L, BLKZEROOUT = 0x127fL, BLKDISCARD = 0x1277L;

    static final MethodHandle OPEN = errnoCall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    static final MethodHandle PREAD = errnoCall("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    static final MethodHandle PWRITE = errnoCall("pwrite64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    static final MethodHandle LSEEK = errnoCall("lseek64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    static final MethodHandle FALLOCATE = errnoCall("fallocate64",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    static final MethodHandle FTRUNCATE = errnoCall("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    static final MethodHandle FSYNC = errnoCall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    static final MethodHandle FDATASYNC = errnoCall("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    static final MethodHandle SYNCFS = errnoCall("syncfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    static final MethodHandle COPY_FILE_RANGE = errnoCall("copy_file_range",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), -1);
    static final MethodHandle IOCTL = errnoCall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    static final MethodHandle SYNC_FILE_RANGE = errnoCall("sync_file_range",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    static final MethodHandle STATX = errnoCall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), -1);
    /** Returns the error number instead of setting errno. */
    static final MethodHandle POSIX_FADVISE = LINKER.downcallHandle(LIBC.find("posix_fadvise64").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Syscalls() {
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor, int firstVariadicArg) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option captureErrno = Linker.Option.captureCallState("errno");
        return firstVariadicArg < 0
                ? LINKER.downcallHandle(symbol, descriptor, captureErrno)
                : LINKER.downcallHandle(symbol, descriptor, captureErrno, Linker.Option.firstVariadicArg(firstVariadicArg));
    }

    /** The per-thread segment every errno-capturing call writes into; read it right after the call. */
    static MemorySegment callState() {
        return CALL_STATE_SEGMENT.get();
    }

    static int lastErrno() {
        return (int) ERRNO.get(callState(), 0L);
    }

    static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable e) {
            return "errno " + errno;
        }
    }
}
