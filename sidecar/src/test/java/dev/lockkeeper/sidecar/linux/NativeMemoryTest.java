package dev.lockkeeper.sidecar.linux;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    @Test
    void zerosOfAnyLengthAreZeroAcrossTheComparedPieces() {
        try (Arena arena = Arena.ofConfined()) {
            for (long length : new long[] {0, 1, 7, 4095, 4096, 4097, 3 * 4096, 3 * 4096 + 5}) {
                assertTrue(NativeMemory.isZero(arena.allocate(length + 1), 1, length), "length " + length);
            }
        }
    }

    @Test
    void aRangeOutsideTheSegmentOrOnTheHeapIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(4096);
            assertThrows(IndexOutOfBoundsException.class, () -> NativeMemory.isZero(bytes, 1, 4096));
            assertThrows(IndexOutOfBoundsException.class, () -> NativeMemory.isZero(bytes, -1, 2));
        }
        assertThrows(
                IllegalArgumentException.class, () -> NativeMemory.isZero(MemorySegment.ofArray(new byte[8]), 0, 8));
    }

    @Test
    void oneNonZeroByteAnywhereIsFound() {
        try (Arena arena = Arena.ofConfined()) {
            // two pieces and a bit, at an odd address: every position, including both edges of each piece
            MemorySegment bytes = arena.allocate(2 * 4096 + 3);
            long length = bytes.byteSize() - 1;
            for (long at = 1; at < bytes.byteSize(); at++) {
                bytes.set(ValueLayout.JAVA_BYTE, at, (byte) (at % 2 == 0 ? 0x80 : 0x01));
                assertFalse(NativeMemory.isZero(bytes, 1, length), "a byte at " + at);
                bytes.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
            }
            // a byte just outside the range is not looked at, on either side
            bytes.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            assertTrue(NativeMemory.isZero(bytes, 1, length));
            assertFalse(NativeMemory.isZero(bytes, 0, length));
        }
    }
}
