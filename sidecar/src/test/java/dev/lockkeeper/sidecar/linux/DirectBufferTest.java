package dev.lockkeeper.sidecar.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The copy buffers: aligned for O_DIRECT, and their memory goes back to the kernel when their arena closes. */
class DirectBufferTest {
    private static final long SIZE = 4 << 20;

    @Test
    void aClosedBuffersPagesLeaveTheProcess() throws IOException {
        // several rounds: a buffer freed to malloc would make the next ones come from (and stay in) malloc's heap
        for (int round = 0; round < 4; round++) {
            long address;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = NativeFile.directBuffer(arena, SIZE);
                address = buffer.address();
                assertEquals(0, address % NativeFile.DIRECT_IO_ALIGNMENT);
                assertEquals(SIZE, buffer.byteSize());
                assertEquals(0, buffer.get(JAVA_LONG, SIZE - 8), "fresh pages read as zeros");
                buffer.fill((byte) 0x5a);
                assertTrue(mapped(address, SIZE), "round " + round + ": the buffer is mapped while its arena is open");
            }
            assertFalse(
                    mapped(address, 1), "round " + round + ": the buffer's pages are unmapped once its arena closes");
        }
    }

    @Test
    void anEmptyBufferIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> NativeFile.directBuffer(arena, 0));
        }
    }

    /** Whether one mapping of this process covers {@code [address, address + length)} (/proc/self/maps). */
    private static boolean mapped(long address, long length) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            long start = Long.parseUnsignedLong(range[0], 16);
            long end = Long.parseUnsignedLong(range[1], 16);
            if (start <= address && address + length <= end) return true;
        }
        return false;
    }
}
