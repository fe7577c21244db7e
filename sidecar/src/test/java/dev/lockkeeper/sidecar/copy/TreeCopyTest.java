package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.Mount;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeCopyTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void copiesTypesModesOwnersLinksHardLinksAndMtimes() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.createDirectories(source.resolve("etc/deep/er"));
        Files.writeString(source.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.createLink(source.resolve("etc/deep/hosts-again"), source.resolve("etc/hosts"));
        Images.sparse(source.resolve("etc/deep/er/sparse.img"), 64 * MiB, 10 * MiB, MiB);
        Files.writeString(source.resolve("setuid-tool"), "#!/bin/sh\n");
        Commands.ok("chmod", "4750", source.resolve("setuid-tool").toString());
        Commands.ok("chmod", "1777", source.resolve("etc/deep").toString());
        Files.createSymbolicLink(source.resolve("relative-link"), Path.of("etc/hosts"));
        Files.createSymbolicLink(source.resolve("dangling-link"), Path.of("does/not/exist"));
        Files.createFile(source.resolve("empty"));
        if (Commands.isRoot()) {
            Commands.ok(
                    "chown",
                    "-h",
                    "1234:5678",
                    source.resolve("etc/hosts").toString(),
                    source.resolve("relative-link").toString(),
                    source.resolve("etc/deep").toString());
        }
        Files.createDirectories(source.resolve("lost+found/#1234"));
        Commands.ok("mkfifo", source.resolve("fifo").toString());
        Files.setLastModifiedTime(
                source.resolve("etc/deep/er"), FileTime.from(Instant.parse("2001-02-03T04:05:06.123456789Z")));
        Files.setLastModifiedTime(source, FileTime.from(Instant.parse("2002-01-01T00:00:00Z")));
        Path target = dir.resolve("target");

        CopyReport report =
                new VolumeCopier().copy(CopyRequest.of(source, target).withVerify(true));

        Map<String, String> expected = describeTree(source);
        expected.keySet().removeIf(path -> path.equals("fifo") || path.startsWith("lost+found"));
        assertEquals(expected, describeTree(target));
        assertEquals(
                FileStat.Identity.class,
                NativeFile.statNoFollow(target.resolve("etc/hosts")).identity().getClass());
        assertEquals(
                NativeFile.statNoFollow(target.resolve("etc/hosts")).identity(),
                NativeFile.statNoFollow(target.resolve("etc/deep/hosts-again")).identity(),
                "hard link must stay one inode");
        assertEquals(
                Commands.allocatedBytes(source.resolve("etc/deep/er/sparse.img")),
                Commands.allocatedBytes(target.resolve("etc/deep/er/sparse.img")),
                "sparse file must stay sparse");
        assertEquals(1, report.skipped().size(), report.skipped().toString());
        assertTrue(report.skipped().getFirst().startsWith("fifo"));
        assertTrue(report.checksum().orElseThrow().startsWith("tree+"));
        assertFalse(Files.exists(target.resolve(TreeCopier.STAGING)));
        assertEquals(
                "",
                Commands.ok(
                        "diff",
                        "-r",
                        "--no-dereference",
                        "-x",
                        "fifo",
                        "-x",
                        "lost+found",
                        source.toString(),
                        target.toString()));
    }

    /** Relative path → type, mode, owner, mtime, size, link target: everything a tree copy must keep. */
    private static Map<String, String> describeTree(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(dir).toString(), describe(dir));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(file).toString(), describe(file));
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    private static String describe(Path path) throws IOException {
        FileStat stat = NativeFile.statNoFollow(path);
        String link = stat.type() == FileStat.FileType.SYMLINK ? " -> " + Files.readSymbolicLink(path) : "";
        // a symlink's mode is always 0777 and not settable; a directory's size and link count depend on
        // its history and on the excluded lost+found
        String links = stat.type() == FileStat.FileType.DIRECTORY ? "" : Integer.toString(stat.linkCount());
        String mode = stat.type() == FileStat.FileType.SYMLINK ? "" : Integer.toOctalString(stat.permissions());
        String size = stat.type() == FileStat.FileType.REGULAR ? Long.toString(stat.size()) : "";
        return stat.type() + " " + mode + " " + stat.uid() + ":" + stat.gid() + " " + links + " " + stat.modified()
                + " " + size + link;
    }

    @Test
    void hostileTreeNeverLeadsOutsideEitherRoot() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "do not copy me");
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.createSymbolicLink(source.resolve("absolute"), outside.resolve("secret"));
        Files.createSymbolicLink(source.resolve("dotdot"), Path.of("../outside/secret"));
        Files.createSymbolicLink(source.resolve("linked-dir"), outside);
        Files.createDirectories(source.resolve("sub"));
        Files.createSymbolicLink(source.resolve("sub/up"), Path.of("../../outside"));
        Files.createSymbolicLink(source.resolve("..."), Path.of("/"));
        Path target = Files.createDirectories(dir.resolve("target"));
        Map<String, String> outsideBefore = describeTree(outside);

        new VolumeCopier().copy(CopyRequest.of(source, target));

        for (String link : new String[] {"absolute", "dotdot", "linked-dir", "sub/up", "..."}) {
            assertTrue(Files.isSymbolicLink(target.resolve(link)), link + " must be copied as a link");
            assertEquals(Files.readSymbolicLink(source.resolve(link)), Files.readSymbolicLink(target.resolve(link)));
        }
        try (var entries = Files.list(target)) {
            assertEquals(5, entries.count(), "only the five top-level entries");
        }
        assertEquals(outsideBefore, describeTree(outside), "nothing outside the roots may change");
        assertEquals("do not copy me", Files.readString(outside.resolve("secret")));
    }

    @Test
    void diskImgSourceWithASymlinkIsRefused() throws Exception {
        Path source = Files.createDirectories(dir.resolve("volume"));
        Path secret = Images.sparse(dir.resolve("host-disk"), MiB, 0, 4096);
        Files.createSymbolicLink(source.resolve("disk.img"), secret);
        Path target = Files.createFile(dir.resolve("out.img"));

        CopyException refused =
                assertThrows(CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, target)));

        assertTrue(refused.getMessage().contains("not a regular file"), refused.getMessage());
        assertEquals(0, Files.size(target));
    }

    @Test
    void refusesANonEmptyTargetButIgnoresLostAndFoundAndAStaleStagingDirectory() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.writeString(source.resolve("a"), "a");
        Path busy = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(busy.resolve("precious"), "keep");
        Path reused = Files.createDirectories(dir.resolve("reused"));
        Files.createDirectories(reused.resolve("lost+found"));
        Files.createDirectories(reused.resolve(TreeCopier.STAGING).resolve("half"));

        CopyException refused =
                assertThrows(CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, busy)));
        new VolumeCopier().copy(CopyRequest.of(source, reused));

        assertTrue(
                refused.getMessage().contains("not empty")
                        && refused.getMessage().contains("precious"),
                refused.getMessage());
        assertEquals("keep", Files.readString(busy.resolve("precious")));
        assertEquals("a", Files.readString(reused.resolve("a")));
        assertFalse(Files.exists(reused.resolve(TreeCopier.STAGING)));
        assertTrue(Files.isDirectory(reused.resolve("lost+found")));
    }

    @Test
    void refusesATargetInsideTheSource() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.writeString(source.resolve("a"), "a");

        CopyException refused = assertThrows(
                CopyException.class, () -> new VolumeCopier().copy(CopyRequest.of(source, source.resolve("inner"))));

        assertTrue(refused.getMessage().contains("inside the source"), refused.getMessage());
    }

    @Test
    void manySmallFilesInParallelKeepTheirContent() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Map<String, String> written = new HashMap<>();
        for (int i = 0; i < 600; i++) {
            Path file = source.resolve("d" + i % 7).resolve("f" + i);
            Files.createDirectories(file.getParent());
            String text = "file " + i + " ".repeat(i);
            Files.writeString(file, text);
            written.put(source.relativize(file).toString(), text);
        }
        Path target = dir.resolve("target");

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals(600, report.files());
        for (var entry : written.entrySet())
            assertEquals(entry.getValue(), Files.readString(target.resolve(entry.getKey())));
        assertNotEquals(0, report.dataBytes());
    }

    @Test
    void progressEndsAtTheExactTotalWhenTheTreeIsNotMeasuredUpFront() throws Exception {
        assumeTrue(Commands.isRoot(), "mounts a tmpfs, where the bound that skips measuring always holds");
        try (Mount tmpfs = Mount.of("tmpfs", dir.resolve("tmpfs"), "size=64m")) {
            Path volume = tmpfs.point();
            Path source = volume.resolve("source");
            Files.createDirectories(source.resolve("a/b"));
            long expected = 0;
            for (int i = 0; i < 50; i++) {
                Files.writeString(source.resolve(i % 2 == 0 ? "a/b/f" + i : "f" + i), "x".repeat(1000 + i));
                expected += 1000 + i;
            }
            Images.sparse(source.resolve("a/sparse.img"), 8 * MiB, MiB, MiB);
            expected += 8 * MiB;
            List<long[]> events = Collections.synchronizedList(new ArrayList<>());

            CopyReport report = new VolumeCopier()
                    .copy(CopyRequest.of(source, volume.resolve("target"))
                            .withProgress((done, total) -> events.add(new long[] {done, total})));

            assertProgressEndsExactly(events, report, expected);
        }
    }

    private static void assertProgressEndsExactly(List<long[]> events, CopyReport report, long expected) {
        long[] last = events.getLast();
        assertEquals(
                ProgressListener.UNKNOWN_TOTAL, events.getFirst()[1], "the copy started before the tree was measured");
        assertEquals(expected, report.logicalBytes());
        assertEquals(expected, last[0], "done");
        assertEquals(expected, last[1], "total");
        assertTrue(
                events.stream().allMatch(event -> event[1] == ProgressListener.UNKNOWN_TOTAL || event[1] == expected),
                "a total is either not known yet or exact");
    }

    @Test
    void directoryToBlockNeedsKubevirtContent() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Images.sparse(source.resolve("disk.img"), MiB, 0, 4096);
        Path target = Files.createFile(dir.resolve("out.img"));

        CopyException refused = assertThrows(
                CopyException.class,
                () -> new VolumeCopier().copy(CopyRequest.of(source, target).withContent(Content.ARCHIVE)));

        assertTrue(refused.getMessage().contains("--content kubevirt"), refused.getMessage());
        assertEquals(0, Files.size(target));
    }
}
