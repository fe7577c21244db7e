package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.FileNames;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.FileStat.Identity;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checksum of a tree: every entry (sorted by its name bytes) contributes its path, its type and either its content
 * digest ({@link ContentDigest}) or its link target; SHA-256 over all of it. Verifying compares source and copy
 * entry by entry, so a mismatch names the file. Hard links are one inode: its content is read once on each side
 * (not once per name), and the copy's names must be links of one inode wherever the source's are. Holds the list
 * of paths in memory (verification only).
 */
public final class TreeDigest {
    private TreeDigest() {}

    /**
     * One side's digest, for a copy whose two sides are on different nodes: {@code content} is the roll-up
     * {@link #verify} computes (the same value for the same tree), {@code links} a SHA-256 over the hard-link
     * structure (each name of a multiply-linked file with the first of its inode's names in byte order), which a
     * content digest alone cannot see.
     */
    public record Summary(String content, String links) {}

    public static Summary summarize(Path root) throws IOException, CopyException {
        try (NativeFile handle = NativeFile.open(root, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
            List<Listed> entries = entries(handle);
            Map<Identity, CompletableFuture<String>> digests = new ConcurrentHashMap<>();
            List<byte[]> lines;
            try {
                lines = entries.parallelStream()
                        .map(entry -> line(entry.path(), Comparison.describe(handle, entry.path(), digests)))
                        .toList();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (MismatchException e) {
                throw new CopyException("cannot compute the digest of " + root + ": " + e.getMessage());
            }
            MessageDigest rollUp = ContentDigest.sha256();
            for (byte[] line : lines) rollUp.update(line);
            MessageDigest links = ContentDigest.sha256();
            Map<Identity, TreePath> firstName = new HashMap<>();
            for (Listed entry : entries) {
                if (entry.sharedInode() == null) continue;
                TreePath first = firstName.putIfAbsent(entry.sharedInode(), entry.path());
                links.update(line(entry.path(), "-> " + (first == null ? "." : first.toString())));
            }
            return new Summary(
                    "tree+" + ContentDigest.ALGORITHM + ":" + HexFormat.of().formatHex(rollUp.digest()),
                    ContentDigest.ALGORITHM + ":" + HexFormat.of().formatHex(links.digest()));
        }
    }

    /** A compared entry: where it is and, for a regular file with more than one name, its inode. */
    private record Listed(TreePath path, Identity sharedInode) {}

    static String verify(Path source, Path copy) throws IOException, CopyException {
        try (NativeFile sourceRoot = NativeFile.open(source, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW);
                NativeFile copyRoot = NativeFile.open(copy, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
            return new Comparison(sourceRoot, copyRoot).run();
        }
    }

    /** The compared entries of a tree (directories, regular files, symlinks; the root left out), in byte order. */
    private static List<Listed> entries(NativeFile root) throws IOException, CopyException {
        List<Listed> entries = new ArrayList<>();
        TreeWalk.walk(root, entry -> {
            FileType type = entry.stat().type();
            boolean compared = type == FileType.DIRECTORY || type == FileType.REGULAR || type == FileType.SYMLINK;
            if (compared && !entry.path().isRoot() && !(entry.mountPoint() && type != FileType.DIRECTORY)) {
                boolean shared = type == FileType.REGULAR && entry.stat().linkCount() > 1;
                entries.add(new Listed(entry.path(), shared ? entry.stat().identity() : null));
            }
            return true;
        });
        entries.sort((a, b) -> a.path().compareTo(b.path()));
        return entries;
    }

    /** An entry's line of the roll-up: path bytes, a space, its description, a newline. */
    private static byte[] line(TreePath path, String description) {
        byte[] name = path.bytes();
        byte[] rest = (" " + description + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] line = new byte[name.length + rest.length];
        System.arraycopy(name, 0, line, 0, name.length);
        System.arraycopy(rest, 0, line, name.length, rest.length);
        return line;
    }

    private static final class Comparison {
        private final NativeFile sourceRoot;
        private final NativeFile copyRoot;
        /** Content digests by inode, one computation per inode and side however many names it has. */
        private final Map<Identity, CompletableFuture<String>> sourceDigests = new ConcurrentHashMap<>();

        private final Map<Identity, CompletableFuture<String>> copyDigests = new ConcurrentHashMap<>();
        /** Which copy inode each multiply-linked source inode became. */
        private final Map<Identity, Identity> copyInodeOf = new ConcurrentHashMap<>();

        Comparison(NativeFile sourceRoot, NativeFile copyRoot) {
            this.sourceRoot = sourceRoot;
            this.copyRoot = copyRoot;
        }

        String run() throws IOException, CopyException {
            List<Listed> entries = entries();
            List<byte[]> lines;
            try {
                lines = entries.parallelStream().map(this::compare).toList();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (MismatchException e) {
                throw new CopyException("verification failed: " + e.getMessage());
            }
            MessageDigest rollUp = ContentDigest.sha256();
            for (byte[] line : lines) rollUp.update(line);
            return "tree+" + ContentDigest.ALGORITHM + ":" + HexFormat.of().formatHex(rollUp.digest());
        }

        private List<Listed> entries() throws IOException, CopyException {
            return TreeDigest.entries(sourceRoot);
        }

        private byte[] compare(Listed entry) {
            TreePath path = entry.path();
            String expected = describe(sourceRoot, path, sourceDigests);
            String actual = describe(copyRoot, path, copyDigests);
            if (!expected.equals(actual)) {
                throw new MismatchException(path + ": source is " + expected + ", copy is " + actual);
            }
            if (entry.sharedInode() != null) checkSameLinks(entry);
            return line(path, expected);
        }

        private void checkSameLinks(Listed entry) {
            Identity copyInode = stat(copyRoot, entry.path()).identity();
            Identity first = copyInodeOf.putIfAbsent(entry.sharedInode(), copyInode);
            if (first != null && !first.equals(copyInode)) {
                throw new MismatchException(
                        entry.path() + ": a hard link of another name in the source, a separate file in the copy");
            }
        }

        private static String describe(
                NativeFile root, TreePath path, Map<Identity, CompletableFuture<String>> digests) {
            try {
                FileStat stat = stat(root, path);
                return switch (stat.type()) {
                    case REGULAR ->
                        "file " + (stat.linkCount() > 1 ? digestOnce(root, path, stat, digests) : digest(root, path));
                    case SYMLINK -> "link " + FileNames.show(root.readLinkAt(path.bytes()));
                    default -> stat.type().name().toLowerCase();
                };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (CopyException e) {
                throw new MismatchException(e.getMessage());
            }
        }

        private static String digestOnce(
                NativeFile root, TreePath path, FileStat stat, Map<Identity, CompletableFuture<String>> digests)
                throws IOException, CopyException {
            CompletableFuture<String> mine = new CompletableFuture<>();
            CompletableFuture<String> first = digests.putIfAbsent(stat.identity(), mine);
            if (first != null) {
                try {
                    return first.join();
                } catch (CompletionException e) {
                    throw new MismatchException(path + ": " + e.getCause().getMessage());
                }
            }
            try {
                String digest = digest(root, path);
                mine.complete(digest);
                return digest;
            } catch (IOException | CopyException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            }
        }

        private static String digest(NativeFile root, TreePath path) throws IOException, CopyException {
            try (ImageSource image = ImageSource.openInside(root, path)) {
                return ContentDigest.of(image, image.size);
            }
        }

        private static FileStat stat(NativeFile root, TreePath path) {
            try {
                return root.statAt(path.bytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final class MismatchException extends RuntimeException {
        MismatchException(String message) {
            super(message);
        }
    }
}
