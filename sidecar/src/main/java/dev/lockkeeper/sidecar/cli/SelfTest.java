package dev.lockkeeper.sidecar.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code self-test DIR}: runs the copy command on sample data made inside DIR — an image with data, holes and an
 * all-zero block; a tree with nested files, a symlink and a hard link — each copy verified, then removes it all.
 * It checks that a node's filesystem and kernel support what the engine relies on, and it is the workload the
 * build records the JVM's AOT cache from, so every path a real copy takes is loaded and linked ahead of time.
 */
public final class SelfTest {
    private static final int MiB = 1 << 20;
    private static final int FAILED = 1;
    private static final String USAGE =
            "Usage: lockkeeper-sidecar self-test DIR   (copies and verifies a few MiB of sample data in DIR, then removes it)";

    private SelfTest() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            out.println(USAGE);
            return 0;
        }
        if (args.length != 1 || args[0].startsWith("-")) {
            err.println("lockkeeper-sidecar self-test: expected one operand, the directory to work in");
            err.println(USAGE);
            return CopyCommand.USAGE_ERROR;
        }
        Path work;
        try {
            work = Files.createTempDirectory(Path.of(args[0]), "lockkeeper-self-test-");
        } catch (IOException e) {
            err.println("lockkeeper-sidecar self-test: error: cannot create a work directory in " + args[0] + ": "
                    + reason(e));
            return FAILED;
        }
        try {
            Path image = sampleImage(work.resolve("image.img"));
            Path tree = sampleTree(work.resolve("tree"));
            Path volume = Files.createDirectory(work.resolve("volume"));
            List<List<String>> copies = List.of(
                    List.of(image.toString(), work.resolve("copy.img").toString(), "--verify", "--progress", "json"),
                    List.of(image.toString(), volume.toString(), "--verify", "--progress", "none"),
                    List.of(
                            volume.toString(),
                            work.resolve("from-volume.img").toString(),
                            "--verify",
                            "--progress",
                            "none"),
                    List.of(
                            tree.toString(),
                            work.resolve("tree-copy").toString(),
                            "--content",
                            "archive",
                            "--verify",
                            "--progress",
                            "json"));
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            for (List<String> copy : copies) {
                int exit = CopyCommand.run(copy.toArray(String[]::new), quiet, err);
                if (exit != 0) {
                    err.println("lockkeeper-sidecar self-test: failed: copy " + String.join(" ", copy));
                    return exit;
                }
            }
            out.println("self-test passed: " + copies.size() + " copies verified in " + args[0]);
            return 0;
        } catch (IOException e) {
            err.println("lockkeeper-sidecar self-test: error: cannot make sample data in " + work + ": " + reason(e));
            return FAILED;
        } finally {
            removeQuietly(work, err);
        }
    }

    /** 8 MiB: random data, a 3 MiB hole, a written all-zero MiB, data again, and a hole up to the end. */
    private static Path sampleImage(Path path) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            file.write(randomBytes(random, 2 * MiB), 0);
            file.write(ByteBuffer.allocate(MiB), 5L * MiB);
            file.write(randomBytes(random, MiB), 6L * MiB);
            file.truncate(8L * MiB);
        }
        return path;
    }

    private static Path sampleTree(Path root) throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        Path nested = Files.createDirectories(root.resolve("a").resolve("b"));
        for (int i = 0; i < 64; i++) {
            Path file = (i % 2 == 0 ? nested : root).resolve("file-" + i);
            Files.write(
                    file, randomBytes(random, 100 + random.nextInt(16 * 1024)).array());
        }
        Files.createSymbolicLink(root.resolve("link"), Path.of("a/b/file-0"));
        Files.createLink(root.resolve("hard-link"), nested.resolve("file-2"));
        try (FileChannel sparse =
                FileChannel.open(root.resolve("sparse"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            sparse.write(randomBytes(random, 4096), 2L * MiB);
        }
        return root;
    }

    private static ByteBuffer randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private static void removeQuietly(Path work, PrintStream err) {
        try (var paths = Files.walk(work)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(path);
        } catch (IOException e) {
            err.println("lockkeeper-sidecar self-test: could not remove " + work + ": " + reason(e));
        } catch (UncheckedIOException e) {
            err.println("lockkeeper-sidecar self-test: could not remove " + work + ": " + reason(e.getCause()));
        }
    }

    /** What went wrong, in words: the JDK's file exceptions carry only the path as their message. */
    private static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException missing -> "no such file or directory: " + missing.getFile();
            case AccessDeniedException denied -> "permission denied: " + denied.getFile();
            case FileSystemException other when other.getReason() != null -> other.getReason() + ": " + other.getFile();
            default -> String.valueOf(e.getMessage());
        };
    }
}
