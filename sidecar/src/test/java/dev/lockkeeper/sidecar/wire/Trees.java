package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Source trees for the wire tests and the description two equal trees share. */
final class Trees {
    static final long MiB = 1 << 20;

    private Trees() {}

    /**
     * Directories, small files, a sparse file (data at 3 MiB and 9 MiB of 16 MiB), a 6 MiB file, a hard link,
     * symlinks, a set-user-ID file, a sticky directory, owners (as root), user xattrs on a file and a directory, a name
     * that is not UTF-8, a FIFO (skipped, as locally), a lost+found (left out) and set mtimes.
     */
    static Path rich(Path source) throws IOException {
        Files.createDirectories(source.resolve("etc/deep/er"));
        Files.writeString(source.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.createLink(source.resolve("etc/deep/hosts-again"), source.resolve("etc/hosts"));
        Images.sparse(source.resolve("etc/deep/er/sparse.img"), 16 * MiB, 3 * MiB, MiB, 9 * MiB, 2 * MiB);
        Images.writeRandom(Files.createFile(source.resolve("data.bin")), 0, 6 * MiB, 41);
        Files.writeString(source.resolve("setuid-tool"), "#!/bin/sh\n");
        Commands.ok("chmod", "4750", source.resolve("setuid-tool").toString());
        Commands.ok("chmod", "1777", source.resolve("etc/deep").toString());
        Files.createSymbolicLink(source.resolve("relative-link"), Path.of("etc/hosts"));
        Files.createSymbolicLink(source.resolve("dangling-link"), Path.of("/does/not/exist"));
        Files.createFile(source.resolve("empty"));
        for (int i = 0; i < 40; i++) Files.writeString(source.resolve("etc/file-" + i), "line " + i + "\n".repeat(i));
        Files.write(
                Files.createDirectories(source.resolve("names"))
                        .resolve(Path.of(
                                new String(new byte[] {'c', 'a', 'f', (byte) 0xe9}, StandardCharsets.ISO_8859_1))),
                new byte[] {1, 2, 3});
        xattr(source.resolve("etc/hosts"), "origin", "node-a");
        xattr(source.resolve("etc/deep"), "team", "storage");
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
        return source;
    }

    /** {@code count} files of {@code size} random bytes in a few directories: a tree a copy can be stopped in the middle of. */
    static Path many(Path source, int count, long size) throws IOException {
        for (int i = 0; i < count; i++) {
            Path file = Files.createDirectories(source.resolve("d" + i % 4)).resolve("f" + i);
            Images.writeRandom(Files.createFile(file), 0, size, i);
        }
        return source;
    }

    private static void xattr(Path path, String name, String value) throws IOException {
        Files.getFileAttributeView(path, UserDefinedFileAttributeView.class)
                .write(name, StandardCharsets.UTF_8.encode(value));
    }

    /** Relative path → type, mode, owner, mtime, size, link target, xattrs, allocation: what a tree copy must keep. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.getFileName().toString().equals("lost+found")) return FileVisitResult.SKIP_SUBTREE;
                entries.put(root.relativize(dir).toString(), describeOne(dir));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                entries.put(root.relativize(file).toString(), describeOne(file));
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    private static String describeOne(Path path) throws IOException {
        FileStat stat = NativeFile.statNoFollow(path);
        String link = stat.type() == FileStat.FileType.SYMLINK ? " -> " + Files.readSymbolicLink(path) : "";
        // a directory's size and link count depend on its history; a symlink's mode is always 0777
        String links = stat.type() == FileStat.FileType.DIRECTORY ? "" : Integer.toString(stat.linkCount());
        String mode = stat.type() == FileStat.FileType.SYMLINK ? "" : Integer.toOctalString(stat.permissions());
        String size =
                stat.type() == FileStat.FileType.REGULAR ? stat.size() + " data=" + Allocation.dataExtents(path) : "";
        String xattrs = "";
        if (stat.type() == FileStat.FileType.REGULAR || stat.type() == FileStat.FileType.DIRECTORY) {
            try (NativeFile file = NativeFile.open(path, NativeFile.Mode.READ, NativeFile.Mode.NO_FOLLOW)) {
                xattrs = file.extendedAttributes().stream()
                        .filter(a -> !a.name().equals("security.selinux"))
                        .map(a -> a.name() + "=" + StandardCharsets.ISO_8859_1.decode(ByteBuffer.wrap(a.value())))
                        .collect(Collectors.joining(","));
            }
        }
        return stat.type() + " " + mode + " " + stat.uid() + ":" + stat.gid() + " " + links + " " + stat.modified()
                + " " + size + link + " [" + xattrs + "]";
    }
}
