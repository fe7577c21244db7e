package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.NativeFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Checksum of a tree: every entry (sorted by path) contributes its path, its type and either its content digest
 * ({@link ContentDigest}) or its link target; SHA-256 over all of it. Verifying compares source and copy entry
 * by entry, so a mismatch names the file. Holds the list of paths in memory (verification only).
 */
final class TreeDigest {
    private TreeDigest() {
    }

    static String verify(Path source, Path copy) throws IOException, CopyException {
        List<Path> entries = entriesOf(source);
        List<String> lines;
        try {
            lines = entries.parallelStream().map(relative -> compare(source, copy, relative)).toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (MismatchException e) {
            throw new CopyException("verification failed: " + e.getMessage());
        }
        MessageDigest rollUp = ContentDigest.sha256();
        for (String line : lines) rollUp.update((line + "\n").getBytes(StandardCharsets.UTF_8));
        return "tree+" + ContentDigest.ALGORITHM + ":" + HexFormat.of().formatHex(rollUp.digest());
    }

    private static List<Path> entriesOf(Path source) throws IOException, CopyException {
        List<Path> entries = new ArrayList<>();
        TreeWalk.walk(source, (path, stat) -> {
            boolean compared = stat.type() == FileType.DIRECTORY || stat.type() == FileType.REGULAR || stat.type() == FileType.SYMLINK;
            if (compared && !path.equals(source)) entries.add(source.relativize(path));
            return true;
        });
        entries.sort(null);
        return entries;
    }

    private static String compare(Path source, Path copy, Path relative) {
        String expected = describe(source.resolve(relative));
        String actual = describe(copy.resolve(relative));
        if (!expected.equals(actual)) {
            throw new MismatchException(relative + ": source is " + expected + ", copy is " + actual);
        }
        return relative + " " + expected;
    }

    private static String describe(Path path) {
        try {
            FileStat stat = NativeFile.statNoFollow(path);
            return switch (stat.type()) {
                case REGULAR -> {
                    try (ImageSource image = ImageSource.open(path, true)) {
                        yield "file " + ContentDigest.of(image, image.size);
                    }
                }
                case SYMLINK -> "link " + Files.readSymbolicLink(path);
                default -> stat.type().name().toLowerCase();
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (CopyException e) {
            throw new MismatchException(e.getMessage());
        }
    }

    private static final class MismatchException extends RuntimeException {
        MismatchException(String message) {
            super(message);
        }
    }
}
