package dev.lockkeeper.sidecar.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/** Tests on memory that libc does faster than Java code compiled by C1 (the copy command's JVM) or by C2. */
public final class NativeMemory {
    /** Compared against in pieces of this size. */
    private static final long ZEROS_BYTES = 4096;

    private static final long ZEROS = Arena.global().allocate(ZEROS_BYTES).address();
    private static final Linker LINKER = Linker.nativeLinker();
    /**
     * {@code int memcmp(const void *, const void *, size_t)} with the pointers passed as addresses (as {@link Syscalls}
     * passes them): a slice per call would be garbage the copy command's C1 cannot elide, 2 per 4 KiB block, and on a
     * device of zeros it grew the heap by 15 MiB. A critical call: no thread-state transition, since it never blocks
     * and a block is compared in well under a microsecond.
     */
    private static final MethodHandle MEMCMP = LINKER.downcallHandle(
            LINKER.defaultLookup().find("memcmp").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.critical(false));

    private NativeMemory() {}

    /**
     * Whether every byte of {@code [offset, offset+length)} of {@code bytes} (native memory, alive for the call) is
     * zero: glibc's vectorised {@code memcmp} against a zero block. A Java loop over the words took 0.38 s per GiB of
     * zeros under C1 (the copy command scanning a device of mostly zeros spent most of its CPU there) and 0.023 s
     * under C2; {@code memcmp} 0.02 s and 0.011 s (1 GiB of zero blocks in a 4 MiB buffer, this machine). And
     * {@code MemorySegment.mismatch} against a zero block, before that, was compiled by C2 differently from one agent
     * JVM to the next: 0.31 against 0.62 CPU-s for the same 4 GiB device copy, run after run.
     */
    public static boolean isZero(MemorySegment bytes, long offset, long length) {
        Objects.checkFromIndexSize(offset, length, bytes.byteSize());
        if (!bytes.isNative()) throw new IllegalArgumentException("not native memory: " + bytes);
        long start = bytes.address() + offset;
        for (long at = 0; at < length; at += ZEROS_BYTES) {
            if (memcmp(start + at, Math.min(ZEROS_BYTES, length - at)) != 0) return false;
        }
        return true;
    }

    private static int memcmp(long address, long length) {
        try {
            return (int) MEMCMP.invokeExact(address, ZEROS, length);
        } catch (Throwable e) {
            throw new IllegalStateException("memcmp could not be invoked", e);
        }
    }
}
