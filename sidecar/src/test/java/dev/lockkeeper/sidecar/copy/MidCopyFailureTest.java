package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failures that happen after the first byte is written: the target must not look complete. */
class MidCopyFailureTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void sourceShrinkingDuringTheCopyFailsAndLeavesNoTarget() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 40 * MiB, 0, 40 * MiB);
        Path target = dir.resolve("target.img");
        AtomicBoolean truncated = new AtomicBoolean();
        // the listener runs inside the copy loop after a chunk: the truncation lands mid-copy without any timing
        ProgressListener shrinkOnce = (done, total) -> {
            if (done > 0 && truncated.compareAndSet(false, true)) {
                try (RandomAccessFile file = new RandomAccessFile(source.toFile(), "rw")) {
                    file.setLength(10 * MiB);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier(1).copy(CopyRequest.of(source, target).withProgress(shrinkOnce)));

        assertTrue(
                failed.getMessage().contains("shrank") || failed.getMessage().contains("changed size"),
                failed.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(ImageTransfer.partialNameFor(target)));
    }

    @Test
    void verifyCatchesATargetThatDiffersFromTheSource() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 8 * MiB, 0, 8 * MiB);
        Path target = dir.resolve("target.img");
        Path partial = ImageTransfer.partialNameFor(target);
        ProgressListener corruptAtTheEnd = (done, total) -> {
            if (done == total)
                Commands.ok("sh", "-c", "printf X | dd of=" + partial + " bs=1 seek=12345 conv=notrunc status=none");
        };

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier(1)
                        .copy(CopyRequest.of(source, target).withVerify(true).withProgress(corruptAtTheEnd)));

        assertTrue(failed.getMessage().startsWith("verification failed"), failed.getMessage());
        assertFalse(Files.exists(target), "an unverified copy must not get the final name");
    }

    @Test
    void runningOutOfSpaceMidCopyIsReportedAndCleanedUp() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("mkfs.ext4"), "needs root, loop devices and mkfs.ext4");
        try (LoopDevice source = LoopDevice.create(dir.resolve("source.backing"), 16 * MiB)) {
            Images.writeRandom(source.path(), 0, 16 * MiB, 7);
            onSmallVolume(volume -> {
                // a block source's data size is unknown up front, so the free-space check passes and ENOSPC comes
                // mid-copy
                Commands.ok("fallocate", "-l", "16M", volume.resolve("filler").toString());

                CopyException failed = assertThrows(
                        CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source.path(), volume)));

                assertTrue(failed.getMessage().contains("ran out of space"), failed.getMessage());
                assertFalse(Files.exists(volume.resolve("disk.img")));
                assertFalse(Files.exists(ImageTransfer.partialNameFor(volume.resolve("disk.img"))));
            });
        }
    }

    @Test
    void refusesAVolumeTooSmallForTheImageAfterFilesystemOverhead() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("mkfs.ext4"), "needs root, loop devices and mkfs.ext4");
        onSmallVolume(volume -> {
            // mostly holes, so free space is no problem: only the volume's usable size is
            Path source = Images.sparse(dir.resolve("source.img"), 31 * MiB, 0, MiB);

            CopyException refused =
                    assertThrows(CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, volume)));

            assertTrue(
                    refused.getMessage().contains("too small")
                            && refused.getMessage().contains(Long.toString(31 * MiB))
                            && refused.getMessage().contains("6% filesystem overhead"),
                    refused.getMessage());
            assertFalse(Files.exists(volume.resolve("disk.img")));
        });
    }

    @Test
    void refusesATreeTheTargetVolumeCannotHoldBeforeWritingAnything() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("mkfs.ext4"), "needs root, loop devices and mkfs.ext4");
        onSmallVolume(volume -> {
            Path source = Files.createDirectories(dir.resolve("tree/nested"));
            for (int i = 0; i < 5; i++)
                Images.writeRandom(Files.createFile(source.resolve("part-" + i)), 0, 8 * MiB, i);

            CopyException refused = assertThrows(
                    CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source.getParent(), volume)));

            assertTrue(
                    refused.getMessage().contains("free but the source tree needs 41943040 bytes (40.0 MiB)"),
                    refused.getMessage());
            try (var entries = Files.list(volume)) {
                assertEquals(
                        List.of("lost+found"),
                        entries.map(p -> p.getFileName().toString()).toList());
            }
        });
    }

    @Test
    void upstreamUsableSizeFormula() {
        assertEquals(943 * MiB, ImageTransfer.usableImageSize(1000 * MiB, 0.06));
        assertEquals(1000 * MiB, ImageTransfer.usableImageSize(1000 * MiB, 0));
    }

    private interface VolumeTest {
        void run(Path volume) throws Exception;
    }

    /** Runs {@code test} on a fresh 32 MiB ext4 filesystem on a loop device, mounted at {@code dir/volume}. */
    private void onSmallVolume(VolumeTest test) throws Exception {
        try (LoopDevice small = LoopDevice.create(dir.resolve("small.backing"), 32 * MiB)) {
            Commands.ok("mkfs.ext4", "-q", small.path().toString());
            try (Mount volume = Mount.device(small.path(), dir.resolve("volume"))) {
                test.run(volume.point());
            }
        }
    }
}
