package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trees with many names for one inode, mounts inside, files rewritten while copied, and a target that fills up. */
class TreeEdgesTest {
    private static final long MiB = 1 << 20;
    private static final int EXTRA_LINKS = 200;

    @TempDir
    Path dir;

    /** A 4 MiB file with {@value #EXTRA_LINKS} more names for it in two directories. */
    private Path treeWithManyLinks() throws IOException {
        Path source = Files.createDirectories(dir.resolve("source/a"));
        Files.createDirectories(source.resolveSibling("b"));
        Path file = Images.sparse(source.resolve("data"), 4 * MiB, 0, 4 * MiB);
        for (int i = 0; i < EXTRA_LINKS; i++)
            Files.createLink(source.resolveSibling(i % 2 == 0 ? "a" : "b").resolve("link" + i), file);
        return source.getParent();
    }

    /** Bytes this process has read through read-like system calls (pread, copy_file_range) since it started. */
    private static long bytesReadByThisProcess() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("rchar:"))
                return Long.parseLong(line.substring(6).trim());
        }
        throw new AssertionError("no rchar in /proc/self/io");
    }

    @Test
    void hardLinksAreCopiedAsLinksReportedAsLinksAndVerifiedOncePerInode() throws Exception {
        Path source = treeWithManyLinks();
        Path target = dir.resolve("target");
        long readBefore = bytesReadByThisProcess();

        CopyReport report =
                new VolumeCopier().copy(CopyRequest.of(source, target).withVerify(true));

        long read = bytesReadByThisProcess() - readBefore;
        // the copy reads 4 MiB, verifying reads source and copy once each: 12 MiB; once per name would be 1.6 GiB
        assertTrue(read < 64 * MiB, "read " + read + " bytes for a tree of one 4 MiB inode");
        assertEquals(1, report.files());
        assertEquals(EXTRA_LINKS, report.hardLinks());
        assertEquals(4 * MiB, report.logicalBytes());
        assertEquals(4 * MiB, report.dataBytes());
        assertEquals(0, report.holeBytes(), "a hard link is not a hole");
        assertEquals(
                EXTRA_LINKS + 1,
                NativeFile.statNoFollow(target.resolve("a/data")).linkCount());
        assertEquals(
                NativeFile.statNoFollow(target.resolve("a/data")).identity(),
                NativeFile.statNoFollow(target.resolve("b/link199")).identity());
        assertEquals("", Commands.ok("diff", "-r", source.toString(), target.toString()));
    }

    @Test
    void verifyRefusesACopyWhoseHardLinkBecameASeparateFile() throws Exception {
        Path source = treeWithManyLinks();
        Path target = dir.resolve("target");
        Path staged = target.resolve(TreeCopier.STAGING);
        // the walk's settling event comes from the copying thread itself, after every worker has finished
        AtomicBoolean broken = new AtomicBoolean();
        ProgressListener breakOneLink = (done, total) -> {
            String thread = Thread.currentThread().getName();
            if (done == total && total > 0 && !thread.startsWith("lk-") && broken.compareAndSet(false, true)) {
                Commands.ok(
                        "sh", "-c", "rm \"$1/b/link7\" && cp \"$1/a/data\" \"$1/b/link7\"", "sh", staged.toString());
            }
        };

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier()
                        .copy(CopyRequest.of(source, target).withVerify(true).withProgress(breakOneLink)));

        assertTrue(broken.get());
        assertTrue(
                failed.getMessage()
                        .contains("verification failed: b/link7: a hard link of another name in the source, "
                                + "a separate file in the copy"),
                failed.getMessage());
    }

    @Test
    void aBindMountInsideTheSourceIsNotCrossed() throws Exception {
        assumeTrue(Commands.isRoot(), "bind mounts need root");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "not part of this volume");
        Path outsideFile = Files.writeString(dir.resolve("outside-file"), "nor this");
        Path source = Files.createDirectories(dir.resolve("source/sub/mnt"));
        Files.writeString(source.getParent().resolve("kept"), "kept");
        Files.writeString(source.resolve("hidden-under-the-mount"), "shadowed");
        Files.writeString(source.getParent().resolve("file-mount"), "shadowed too");
        Path root = source.getParent().getParent();
        Commands.ok("mount", "--bind", outside.toString(), source.toString());
        try {
            Commands.ok(
                    "mount",
                    "--bind",
                    outsideFile.toString(),
                    source.getParent().resolve("file-mount").toString());
            try {
                Path target = dir.resolve("target");

                CopyReport report =
                        new VolumeCopier().copy(CopyRequest.of(root, target).withVerify(true));

                assertEquals("kept", Files.readString(target.resolve("sub/kept")));
                assertTrue(Files.isDirectory(target.resolve("sub/mnt")), "the mount point is kept, as with cp -x");
                try (var entries = Files.list(target.resolve("sub/mnt"))) {
                    assertEquals(List.of(), entries.toList(), "nothing of the mounted filesystem is copied");
                }
                assertFalse(Files.exists(target.resolve("sub/file-mount")));
                assertEquals(
                        List.of(
                                "sub/file-mount (mount point: a file mounted from another filesystem; not copied)",
                                "sub/mnt (mount point: another filesystem is mounted there; copied as an empty directory)"),
                        report.skipped().stream().sorted().toList());
            } finally {
                Commands.run("umount", source.getParent().resolve("file-mount").toString());
            }
        } finally {
            Commands.run("umount", source.toString());
        }
    }

    @Test
    void aTreeFileRewrittenInPlaceWhileCopiedFailsTheCopy() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path image = Images.sparse(source.resolve("disk.img"), 24 * MiB, 0, 24 * MiB);
        Path target = dir.resolve("target");
        AtomicBoolean rewritten = new AtomicBoolean();
        // tree progress moves with each 8 MiB window of a file, so this lands between two windows of disk.img
        ProgressListener rewriteOnce = (done, total) -> {
            if (done > 0 && done < 24 * MiB && rewritten.compareAndSet(false, true)) {
                try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                    file.seek(20 * MiB);
                    file.write(new byte[4096]);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };

        CopyException failed = assertThrows(
                CopyException.class,
                () -> new VolumeCopier()
                        .copy(CopyRequest.of(source, target)
                                .withContent(Content.ARCHIVE)
                                .withProgress(rewriteOnce)));

        assertTrue(rewritten.get());
        assertTrue(
                failed.getMessage().contains("source file " + image + " changed during the copy"), failed.getMessage());
        assertOnlyAnEmptyMark(target);
    }

    @Test
    void runningOutOfSpaceMidTreeLeavesTheTargetMarkedUnfinished() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("mkfs.ext4"), "needs root, loop devices and mkfs.ext4");
        Path source = Files.createDirectories(dir.resolve("source"));
        for (int i = 0; i < 64; i++) Files.writeString(source.resolve("file" + i), "small");
        try (LoopDevice small = LoopDevice.create(dir.resolve("small.backing"), 32 * MiB)) {
            // bytes are plenty (the up-front check passes), inodes are not: ENOSPC comes mid-copy
            Commands.ok("mkfs.ext4", "-q", "-N", "16", small.path().toString());
            try (Mount volume = Mount.device(small.path(), dir.resolve("volume"))) {
                CopyException failed = assertThrows(
                        CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, volume.point())));

                assertTrue(failed.getMessage().contains("ran out of space"), failed.getMessage());
                try (var entries = Files.list(volume.point())) {
                    assertEquals(
                            List.of(TreeCopier.STAGING, "lost+found"),
                            entries.map(p -> p.getFileName().toString())
                                    .sorted()
                                    .toList());
                }
                try (var entries = Files.list(volume.point().resolve(TreeCopier.STAGING))) {
                    assertEquals(List.of(), entries.toList(), "emptied: nothing half-copied is left");
                }
            }
        }
    }

    private static void assertOnlyAnEmptyMark(Path target) throws IOException {
        try (var entries = Files.list(target)) {
            assertEquals(List.of(target.resolve(TreeCopier.STAGING)), entries.toList());
        }
        try (var entries = Files.list(target.resolve(TreeCopier.STAGING))) {
            assertEquals(List.of(), entries.toList());
        }
    }
}
