package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FileImageCopyTest {
    private static final long MiB = 1 << 20;
    private static final long GiB = 1L << 30;

    @TempDir
    Path dir;

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("ends in a hole", 32 * MiB, new long[] {MiB, 2 * MiB}),
                Arguments.of("ends in data", 16 * MiB, new long[] {12 * MiB, 4 * MiB}),
                Arguments.of("leading data", 8 * MiB, new long[] {0, 2 * MiB}),
                Arguments.of("all hole", 64 * MiB, new long[] {}),
                Arguments.of("empty", 0L, new long[] {}),
                Arguments.of(
                        "unaligned size, data in the last partial block", 5 * MiB + 123, new long[] {5 * MiB, 123}),
                Arguments.of(
                        "unaligned data across 4 MiB chunk edges", 20 * MiB, new long[] {3 * MiB + 512, 6 * MiB + 5000
                        }),
                Arguments.of("dense", 6 * MiB, new long[] {0, 6 * MiB}),
                Arguments.of("2 GiB apparent, 1 MiB data: holes are never read", 2 * GiB, new long[] {GiB, MiB}));
    }

    @Test
    void writtenZerosInsideTheSourcesDataBecomeHoles() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 8 * MiB, 0, 3 * MiB);
        try (FileChannel file = FileChannel.open(source, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate((int) MiB), MiB); // allocated, but all zeros
        }
        Path target = dir.resolve("target.img");

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

        assertTrue(Commands.sameBytes(source, target, 8 * MiB), "cmp: content differs");
        assertEquals(3 * MiB, Commands.allocatedBytes(source));
        assertEquals(2 * MiB, Commands.allocatedBytes(target), "the zero MiB is not allocated on the target");
        assertEquals(2 * MiB, report.dataBytes());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void copiesBytesAndKeepsHolesAsHoles(String name, long size, long[] data) throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), size, data);
        Path target = dir.resolve("target.img");

        CopyReport report =
                new VolumeCopier().copy(CopyRequest.of(source, target).withVerify(true));

        assertTrue(Commands.sameBytes(source, target, size), "cmp: content differs");
        assertEquals(size, Files.size(target));
        assertEquals(0, Commands.qemuCompare(source, target).exitCode(), "qemu-img compare");
        assertEquals(Commands.allocatedBytes(source), Commands.allocatedBytes(target), "allocation (du) differs");
        assertEquals(size == 0 ? ScanType.NONE : ScanType.EXTENTS, report.scan());
        assertEquals(size, report.logicalBytes());
        assertEquals(size, report.dataBytes() + report.holeBytes());
        assertEquals(allocatedExtentBytes(size, data), report.dataBytes());
        assertTrue(report.checksum().orElseThrow().startsWith(ContentDigest.ALGORITHM + ":"));
        assertFalse(Files.exists(ImageTransfer.partialNameFor(target)), "temporary file left behind");
    }

    /** Data ranges as the filesystem stores them: whole 4 KiB blocks, cut at the file's end. */
    private static long allocatedExtentBytes(long size, long[] data) {
        long total = 0;
        for (int i = 0; i < data.length; i += 2) {
            long start = data[i] / 4096 * 4096;
            long end = Math.min(size, (data[i] + data[i + 1] + 4095) / 4096 * 4096);
            total += end - start;
        }
        return total;
    }

    @Test
    void preallocateAllocatesEveryByte() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 16 * MiB, MiB, MiB);
        Path target = dir.resolve("target.img");

        new VolumeCopier().copy(CopyRequest.of(source, target).withPreallocate(true));

        assertTrue(Commands.sameBytes(source, target, 16 * MiB));
        assertTrue(Commands.allocatedBytes(target) >= 16 * MiB, "preallocated target must be fully allocated");
    }

    @Test
    void replacesAnExistingTargetAndKeepsTheSourceMode() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 3 * MiB, 0, 100);
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r-----"));
        Path target = Images.sparse(dir.resolve("target.img"), 9 * MiB, 0, 9 * MiB);

        new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals(3 * MiB, Files.size(target));
        assertTrue(Commands.sameBytes(source, target, 3 * MiB));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    void aFileIntoADirectoryBecomesDiskImg() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 10 * MiB, 2 * MiB, MiB);
        Path volume = Files.createDirectory(dir.resolve("volume"));

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, volume));

        assertEquals(CopyReport.Kind.IMAGE_TO_DISK_IMG, report.kind());
        assertTrue(Commands.sameBytes(source, volume.resolve("disk.img"), 10 * MiB));
        assertEquals(Commands.allocatedBytes(source), Commands.allocatedBytes(volume.resolve("disk.img")));
    }

    @Test
    void checksumDependsOnLogicalBytesNotOnSparseness() throws Exception {
        Path sparse = Images.sparse(dir.resolve("sparse.img"), 12 * MiB, 5 * MiB, MiB);
        Path dense = dir.resolve("dense.img");
        Commands.ok("cp", "--sparse=never", sparse.toString(), dense.toString());
        Path changed = dir.resolve("changed.img");
        Commands.ok("cp", sparse.toString(), changed.toString());
        Commands.ok(
                "sh", "-c", "printf x | dd of=" + changed + " bs=1 seek=" + (11 * MiB) + " conv=notrunc status=none");

        assertEquals(digest(sparse), digest(dense));
        assertFalse(digest(sparse).equals(digest(changed)), "one changed byte must change the checksum");
    }

    private static String digest(Path file) throws IOException, CopyException {
        try (ImageSource image = ImageSource.open(file, true)) {
            return ContentDigest.of(image, image.size);
        }
    }
}
