package dev.lockkeeper.sidecar.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.linux.NativeFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Allocation of a copy against its source: the same data extents (SEEK_DATA/SEEK_HOLE), and the same {@code du} up
 * to the blocks ext4 spends on an extent tree. A file whose data the allocator split into more than four extents
 * carries an index block in its {@code st_blocks}; whether a file gets one depends on how fragmented the free space
 * was, not on the copy, so an exact {@code du} comparison fails on a busy disk for reasons that are not the copy's.
 */
public final class Allocation {
    private static final long EXTENT_INDEX_SLACK = 2 * 4096;

    private Allocation() {}

    public static void assertSame(Path source, Path target) throws IOException {
        assertEquals(dataExtents(source), dataExtents(target), "data extents of " + target);
        long expected = Commands.allocatedBytes(source);
        long actual = Commands.allocatedBytes(target);
        assertTrue(
                Math.abs(expected - actual) <= EXTENT_INDEX_SLACK,
                "du " + target + ": " + actual + " bytes, the source " + expected);
    }

    /** [start, end) of each data extent, adjacent ones merged. */
    public static List<String> dataExtents(Path file) throws IOException {
        List<String> extents = new ArrayList<>();
        try (NativeFile handle = NativeFile.open(file, NativeFile.Mode.READ)) {
            long size = handle.stat().size();
            for (long position = 0; position < size; ) {
                long data = handle.nextData(position);
                if (data < 0 || data >= size) break;
                long hole = Math.min(handle.nextHole(data), size);
                extents.add("[" + data + ", " + hole + ")");
                position = hole;
            }
        }
        return extents;
    }
}
