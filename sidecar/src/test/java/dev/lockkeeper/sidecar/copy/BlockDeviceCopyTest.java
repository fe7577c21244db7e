package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies onto and from real loop block devices. */
class BlockDeviceCopyTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    private final List<LoopDevice> devices = new ArrayList<>();

    @BeforeAll
    static void needsLoopDevices() {
        assumeTrue(Commands.isRoot() && Commands.available("losetup"), "loop devices need root and losetup");
    }

    @AfterEach
    void detach() {
        devices.forEach(LoopDevice::close);
    }

    private LoopDevice device(String name, long size) throws IOException {
        LoopDevice device = LoopDevice.create(dir.resolve(name), size);
        devices.add(device);
        return device;
    }

    @Test
    void fileOntoADeviceWithOldDataLeavesZerosInTheHolesAndDeallocatesThem() throws Exception {
        Path source =
                Images.sparse(dir.resolve("source.img"), 24 * MiB, 0, 8192, 7 * MiB, 2 * MiB, 24 * MiB - 4096, 4096);
        LoopDevice target = device("target.backing", 24 * MiB).filledWithOldData();

        CopyReport report =
                new VolumeCopier().copy(CopyRequest.of(source, target.path()).withVerify(true));

        assertTrue(Commands.sameBytes(source, target.path(), 24 * MiB), "old data must not show through holes");
        assertEquals(0, Commands.qemuCompare(source, target.path()).exitCode());
        assertEquals(ScanType.EXTENTS, report.scan());
        // the loop driver turns the deallocation into holes in its backing file
        assertEquals(Commands.allocatedBytes(source), Commands.allocatedBytes(target.backingFile()));
    }

    @Test
    void targetIsZeroSkipsHolesOnAFreshDevice() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 16 * MiB, 3 * MiB, MiB);
        LoopDevice target = device("target.backing", 16 * MiB);

        new VolumeCopier().copy(CopyRequest.of(source, target.path()).withTargetIsZero(true));

        assertTrue(Commands.sameBytes(source, target.path(), 16 * MiB));
        assertEquals(Commands.allocatedBytes(source), Commands.allocatedBytes(target.backingFile()));
    }

    @Test
    void deviceToFileFindsZerosAndKeepsThemAsHoles() throws Exception {
        LoopDevice source = device("source.backing", 32 * MiB);
        Images.writeRandom(source.path(), 4 * MiB, 3 * MiB + 4096, 1);
        Images.writeRandom(source.path(), 31 * MiB, MiB, 2);
        Path target = dir.resolve("copy.img");

        CopyReport report =
                new VolumeCopier().copy(CopyRequest.of(source.path(), target).withVerify(true));

        assertTrue(Commands.sameBytes(source.path(), target, 32 * MiB));
        assertEquals(32 * MiB, Files.size(target));
        assertEquals(ScanType.ZERO_SCAN, report.scan());
        assertEquals(4 * MiB + 4096, report.dataBytes());
        assertEquals(4 * MiB + 4096, Commands.allocatedBytes(target));
    }

    @Test
    void deviceToDeviceAndTheChecksumMatchesAcrossKinds() throws Exception {
        LoopDevice source = device("source.backing", 16 * MiB);
        Images.writeRandom(source.path(), MiB, 5 * MiB, 3);
        LoopDevice target = device("target.backing", 20 * MiB).filledWithOldData();
        Path file = dir.resolve("copy.img");

        CopyReport toDevice = new VolumeCopier()
                .copy(CopyRequest.of(source.path(), target.path()).withVerify(true));
        CopyReport toFile =
                new VolumeCopier().copy(CopyRequest.of(source.path(), file).withVerify(true));

        assertTrue(Commands.sameBytes(source.path(), target.path(), 16 * MiB));
        assertEquals(toDevice.checksum(), toFile.checksum());
    }

    @Test
    void deviceIntoAVolumeDirectoryAndBack() throws Exception {
        LoopDevice source = device("source.backing", 12 * MiB);
        Images.writeRandom(source.path(), 0, 2 * MiB, 4);
        Path volume = Files.createDirectory(dir.resolve("volume"));
        LoopDevice back = device("back.backing", 12 * MiB).filledWithOldData();

        CopyReport in = new VolumeCopier().copy(CopyRequest.of(source.path(), volume));
        CopyReport out = new VolumeCopier().copy(CopyRequest.of(volume, back.path()));

        assertEquals(CopyReport.Kind.IMAGE_TO_DISK_IMG, in.kind());
        assertEquals(CopyReport.Kind.DISK_IMG_TO_IMAGE, out.kind());
        assertEquals(2 * MiB, Commands.allocatedBytes(volume.resolve("disk.img")));
        assertTrue(Commands.sameBytes(source.path(), back.path(), 12 * MiB));
    }

    @Test
    void preallocateOnADeviceWritesEveryBlock() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 8 * MiB, MiB, MiB);
        LoopDevice target = device("target.backing", 8 * MiB);

        new VolumeCopier().copy(CopyRequest.of(source, target.path()).withPreallocate(true));

        assertTrue(Commands.sameBytes(source, target.path(), 8 * MiB));
        assertEquals(8 * MiB, Commands.allocatedBytes(target.backingFile()));
    }

    @Test
    void refusesADeviceSmallerThanTheSourceBeforeWritingAByte() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 16 * MiB, 0, MiB);
        LoopDevice target = device("target.backing", 8 * MiB).filledWithOldData();
        byte[] before = Files.readAllBytes(target.backingFile());

        CopyException refused =
                assertThrows(CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, target.path())));

        assertTrue(
                refused.getMessage().contains("too small")
                        && refused.getMessage().contains(Long.toString(8 * MiB))
                        && refused.getMessage().contains(Long.toString(16 * MiB)),
                refused.getMessage());
        assertArrayEquals(before, Files.readAllBytes(target.backingFile()), "the device must be untouched");
    }

    @Test
    void refusesAMountedDevice() throws Exception {
        assumeTrue(Commands.available("mkfs.ext4"), "needs mkfs.ext4");
        LoopDevice target = device("target.backing", 16 * MiB);
        Commands.ok("mkfs.ext4", "-q", target.path().toString());
        try (Mount mounted = Mount.device(target.path(), dir.resolve("mnt"))) {
            Path source = Images.sparse(dir.resolve("source.img"), MiB, 0, 4096);
            CopyException refused = assertThrows(
                    CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, target.path())));
            assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
        }
    }
}
