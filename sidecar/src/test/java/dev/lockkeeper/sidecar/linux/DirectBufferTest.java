package dev.lockkeeper.sidecar.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
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

    /**
     * The copy buffers ask for transparent huge pages: O_DIRECT pins a buffer's pages for every transfer, per 4 KiB page
     * otherwise (most of the kernel's time in a block device copy). With THP in "madvise" mode (this machine kind's,
     * and common on nodes) only an asked-for mapping is eligible; with "always" every one is, and with "never" none.
     */
    @Test
    void aCopyBufferIsEligibleForHugePages() throws IOException {
        Path mode = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        assumeTrue(Files.exists(mode) && !Files.readString(mode).contains("[never]"), "transparent huge pages are off");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = NativeFile.directBuffer(arena, SIZE);
            buffer.fill((byte) 0x5a);
            assertEquals("1", smapsField(buffer.address(), "THPeligible"), "the mapping holding the buffer");
        }
    }

    @Test
    void anEmptyBufferIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> NativeFile.directBuffer(arena, 0));
        }
    }

    /** The first line of a mapping's entry in /proc/self/smaps: its address range. */
    private static final Pattern MAPPING = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    /** A field of the /proc/self/smaps entry of the mapping that holds {@code address}. */
    private static String smapsField(long address, String field) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (MAPPING.matcher(line).lookingAt()) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                inside = Long.parseUnsignedLong(range[0], 16) <= address
                        && address < Long.parseUnsignedLong(range[1], 16);
            } else if (inside && line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError(
                "no " + field + " for the mapping at " + Long.toHexString(address) + " in /proc/self/smaps");
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
