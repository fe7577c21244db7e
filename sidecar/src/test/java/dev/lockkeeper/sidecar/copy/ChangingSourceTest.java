package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sources that do not hold still or do not tell their size: rewritten in place while copied (a VM still running on
 * the image), shrunk, or a pseudo file. Each ends in a clear failure and a target that does not look complete. The
 * changes are made from the progress listener, which runs inside the copy loop: mid-copy without any timing.
 */
class ChangingSourceTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    /** Runs {@code change} once, from the first progress event whose done count satisfies {@code when}. */
    private static ProgressListener once(LongPredicate when, Runnable change) {
        AtomicBoolean done = new AtomicBoolean();
        return (bytes, total) -> {
            if (when.test(bytes) && total > 0 && done.compareAndSet(false, true)) change.run();
        };
    }

    /** Overwrites 4 KiB at {@code offset} with other bytes: the size stays the same. */
    private static Runnable rewriteInPlace(Path file, long offset) {
        return () -> {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.seek(offset);
                raf.write(new byte[4096]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    @Test
    void anImageRewrittenInPlaceDuringTheCopyFailsAndLeavesNoTarget() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 40 * MiB, 0, 40 * MiB);
        Path target = dir.resolve("target.img");

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier(1)
                        .copy(CopyRequest.of(source, target)
                                .withProgress(once(done -> done > 0, rewriteInPlace(source, 0)))));

        assertTrue(failed.getMessage().contains("source " + source + " changed during the copy"), failed.getMessage());
        assertTrue(failed.getMessage().contains("may mix old and new data"), failed.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(ImageTransfer.partialNameFor(target)));
    }

    @Test
    void anImageRewrittenWhileTheHeaderWindowIsCopiedLeavesTheDeviceUnfinished() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("losetup"), "loop devices need root");
        Path source = Images.sparse(dir.resolve("source.img"), 16 * MiB, 0, 16 * MiB);
        try (LoopDevice target = LoopDevice.create(dir.resolve("target.backing"), 16 * MiB)) {
            // one worker: the header window is the last chunk copied, so done == total comes right after it
            CopyException failed = assertThrows(
                    CopyException.class,
                    () -> new VolumeCopier(1)
                            .copy(CopyRequest.of(source, target.path())
                                    .withTargetIsZero(true)
                                    .withProgress(once(done -> done == 16 * MiB, rewriteInPlace(source, 8 * MiB)))));

            assertTrue(failed.getMessage().contains("changed during the copy"), failed.getMessage());
            byte[] header = new byte[(int) VolumeCopier.DEVICE_HEADER_WINDOW];
            try (RandomAccessFile device = new RandomAccessFile(target.path().toFile(), "r")) {
                device.readFully(header);
            }
            for (byte b : header)
                assertEquals(0, b, "the header window is zero again: the device does not look complete");
        }
    }

    @Test
    void aShrunkImageIsReportedWithTheSizeItHadAndHasNow() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 40 * MiB, 0, 40 * MiB);
        Path target = dir.resolve("target.img");
        Runnable truncate = () -> {
            try (RandomAccessFile file = new RandomAccessFile(source.toFile(), "rw")) {
                file.setLength(2 * MiB); // below the next chunk's start: its read returns nothing at all
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier(1)
                        .copy(CopyRequest.of(source, target).withProgress(once(done -> done > 0, truncate))));

        assertTrue(
                failed.getMessage()
                        .contains(
                                "shrank during the copy: it was 41943040 bytes (40.0 MiB), now it is 2097152 bytes (2.0 MiB)"),
                failed.getMessage());
        assertFalse(Files.exists(target));
    }

    @Test
    void aTreeFileFoundShorterThanItWasIsReportedWithBothSizes() throws Exception {
        Path source = Images.sparse(dir.resolve("file"), 10 * MiB, 0, 10 * MiB);
        Path copy = dir.resolve("copy");
        try (var in = NativeFile.open(source);
                var out = NativeFile.open(copy, Mode.WRITE, Mode.CREATE_NEW);
                Arena arena = Arena.ofConfined()) {
            long sizeAtStart = in.stat().size();
            Commands.ok("truncate", "-s", "100", source.toString());

            CopyException failed = assertThrows(
                    CopyException.class,
                    () -> new FileDataCopier(arena.allocate(MiB, 4096)).copy(in, out, sizeAtStart, false, bytes -> {}));

            assertTrue(
                    failed.getMessage()
                            .contains(
                                    "shrank during the copy: it was 10485760 bytes (10.0 MiB), now it is 100 bytes (100 B)"),
                    failed.getMessage());
        }
    }

    @Test
    void aProcFileIsRefusedInsteadOfCopiedAsEmpty() throws Exception {
        Path target = dir.resolve("status.img");

        CopyException refused = assertThrows(
                CopyException.class,
                () -> new VolumeCopier().copy(CopyRequest.of(Path.of("/proc/self/status"), target)));

        assertTrue(
                refused.getMessage().contains("/proc/self/status reports a size of 0 bytes but has content"),
                refused.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(ImageTransfer.partialNameFor(target)));
    }

    @Test
    void aTreeOfProcFilesIsRefusedInsteadOfCopiedAsEmptyFiles() throws Exception {
        Path target = dir.resolve("random");

        CopyException refused = assertThrows(
                CopyException.class,
                () -> new VolumeCopier().copy(CopyRequest.of(Path.of("/proc/sys/kernel/random"), target)));

        assertTrue(refused.getMessage().contains("reports a size of 0 bytes but has content"), refused.getMessage());
        try (var entries = Files.list(target.resolve(TreeCopier.STAGING))) {
            assertEquals(0, entries.count(), "nothing is kept, and the target stays marked unfinished");
        }
    }

    @Test
    void anEmptyFileIsStillCopied() throws Exception {
        Path source = Files.createFile(dir.resolve("empty.img"));

        CopyReport report = new VolumeCopier()
                .copy(CopyRequest.of(source, dir.resolve("copy.img")).withVerify(true));

        assertEquals(0, report.logicalBytes());
        assertEquals(0, Files.size(dir.resolve("copy.img")));
    }
}
