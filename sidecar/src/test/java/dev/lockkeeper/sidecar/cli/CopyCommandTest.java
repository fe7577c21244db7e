package dev.lockkeeper.sidecar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.Main;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command as a person or the agent runs it: exit codes, one-line errors, no stack traces, JSON output. */
class CopyCommandTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    private record Outcome(int exitCode, String out, String err) {
        void assertFailedWith(String fragment) {
            assertEquals(CopyCommand.FAILED, exitCode, err);
            assertTrue(err.startsWith("lockkeeper-sidecar copy: error: "), err);
            assertTrue(err.contains(fragment), "expected '" + fragment + "' in: " + err);
            assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack traces for users: " + err);
        }
    }

    private static Outcome run(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exitCode = Main.run(args);
            return new Outcome(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    @Test
    void copiesAndPrintsTheChecksum() throws Exception {
        Path source = Images.sparse(dir.resolve("a.img"), 4 * MiB, MiB, MiB);

        Outcome outcome = run("copy", source.toString(), dir.resolve("b.img").toString(), "--verify");

        assertEquals(0, outcome.exitCode(), outcome.err());
        assertTrue(outcome.out().contains("verified: crc32c-4MiB+sha256:"), outcome.out());
        assertTrue(Commands.sameBytes(source, dir.resolve("b.img"), 4 * MiB));
    }

    @Test
    void jsonProgressEmitsMachineReadableLines() throws Exception {
        Path source = Images.sparse(dir.resolve("a.img"), 4 * MiB, 0, MiB);

        Outcome outcome = run("copy", source.toString(), dir.resolve("b.img").toString(), "--progress", "json");

        assertEquals(0, outcome.exitCode(), outcome.err());
        String[] lines = outcome.out().strip().split("\n");
        assertTrue(lines[0].matches("\\{\"event\":\"progress\",\"bytes\":0,\"total\":4194304,.*}"), lines[0]);
        assertTrue(
                lines[lines.length - 1].matches(
                        "\\{\"event\":\"done\",\"kind\":\"IMAGE_TO_IMAGE\",.*\"bytes\":4194304,\"dataBytes\":1048576,.*}"),
                lines[lines.length - 1]);
    }

    @Test
    void selfTestCopiesVerifiesAndCleansUp() throws Exception {
        Outcome outcome = run("self-test", dir.toString());

        assertEquals(0, outcome.exitCode(), outcome.err());
        assertEquals(
                "self-test passed: 4 copies verified in " + dir, outcome.out().strip());
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "the sample data is removed");
        }
        assertEquals(2, run("self-test").exitCode());
        assertEquals(1, run("self-test", dir.resolve("missing").toString()).exitCode());
    }

    @Test
    void missingSource() {
        run("copy", dir.resolve("nope.img").toString(), dir.resolve("b.img").toString())
                .assertFailedWith("source " + dir.resolve("nope.img") + " does not exist");
    }

    @Test
    void sourceEqualsTarget() throws Exception {
        Path source = Images.sparse(dir.resolve("a.img"), MiB, 0, 4096);
        Files.createSymbolicLink(dir.resolve("alias.img"), source);

        run("copy", source.toString(), dir.resolve("alias.img").toString())
                .assertFailedWith("source and target are the same file");
        assertTrue(
                Commands.sameBytes(source, Images.sparse(dir.resolve("expected.img"), MiB, 0, 4096), MiB),
                "source untouched");
    }

    @Test
    void treeSummaryCountsHardLinksAsLinks() throws Exception {
        Path source = Files.createDirectory(dir.resolve("tree"));
        Images.sparse(source.resolve("data"), MiB, 0, MiB);
        Files.createLink(source.resolve("again"), source.resolve("data"));
        Files.createLink(source.resolve("and-again"), source.resolve("data"));

        Outcome text = run("copy", source.toString(), dir.resolve("copy").toString(), "--content", "archive");
        Outcome json = run(
                "copy",
                source.toString(),
                dir.resolve("json-copy").toString(),
                "--content",
                "archive",
                "--progress",
                "json");

        assertEquals(0, text.exitCode(), text.err());
        assertTrue(
                text.out().contains(": 1.0 MiB (1.0 MiB data, 0 B holes), 1 files and 2 more hard links to them in "),
                text.out());
        assertEquals(0, json.exitCode(), json.err());
        assertTrue(
                json.out()
                        .contains(
                                "\"bytes\":1048576,\"dataBytes\":1048576,\"holeBytes\":0,\"files\":1,\"hardLinks\":2,"),
                json.out());
    }

    @Test
    void directoryWithoutDiskImg() throws Exception {
        Path volume = Files.createDirectory(dir.resolve("volume"));
        Files.writeString(volume.resolve("other.txt"), "x");
        Path target = Files.createFile(dir.resolve("out.img"));

        run("copy", volume.toString(), target.toString()).assertFailedWith("has no disk.img");
    }

    @Test
    void sourceThatIsNeitherDeviceFileNorDirectory() {
        run("copy", "/dev/null", dir.resolve("b.img").toString())
                .assertFailedWith("is a char device; expected a block device");
    }

    @Test
    void targetParentMissing() throws Exception {
        Path source = Images.sparse(dir.resolve("a.img"), MiB, 0, 4096);

        run("copy", source.toString(), dir.resolve("no/such/dir/b.img").toString())
                .assertFailedWith("does not exist");
    }

    @Test
    void badOptionValuesAreUsageErrors() throws Exception {
        Path source = Images.sparse(dir.resolve("a.img"), MiB, 0, 4096);

        Outcome badRate = run("copy", source.toString(), dir.resolve("b.img").toString(), "--max-rate", "fast");
        Outcome badContent = run("copy", source.toString(), dir.resolve("b.img").toString(), "--content", "tarball");
        Outcome badOverhead =
                run("copy", source.toString(), dir.resolve("b.img").toString(), "--filesystem-overhead", "1.5");

        assertEquals(2, badRate.exitCode());
        assertTrue(badRate.err().contains("not a size: 'fast'"), badRate.err());
        Outcome roundsToNothing =
                run("copy", source.toString(), dir.resolve("b.img").toString(), "--max-rate", "0.4");
        assertEquals(2, roundsToNothing.exitCode(), "a limit of 0.4 bytes/s must not become no limit");
        assertTrue(
                roundsToNothing.err().contains("--max-rate must be at least 1 byte per second, got '0.4'"),
                roundsToNothing.err());
        assertFalse(Files.exists(dir.resolve("b.img")));
        assertEquals(2, badContent.exitCode());
        assertTrue(badContent.err().contains("kubevirt"), badContent.err());
        Outcome nanOverhead =
                run("copy", source.toString(), dir.resolve("b.img").toString(), "--filesystem-overhead", "NaN");
        Outcome negativeOverhead =
                run("copy", source.toString(), dir.resolve("b.img").toString(), "--filesystem-overhead", "-0.1");

        assertEquals(2, badOverhead.exitCode(), badOverhead.err());
        assertTrue(
                badOverhead.err().contains("--filesystem-overhead must be at least 0 and below 1, got 1.5"),
                badOverhead.err());
        assertEquals(2, nanOverhead.exitCode(), nanOverhead.err());
        assertTrue(
                nanOverhead.err().contains("--filesystem-overhead must be at least 0 and below 1, got NaN"),
                nanOverhead.err());
        assertEquals(2, negativeOverhead.exitCode(), negativeOverhead.err());
        Outcome twice = run(
                "copy", source.toString(), dir.resolve("b.img").toString(), "--progress", "none", "--progress", "json");
        assertEquals(2, twice.exitCode());
        assertTrue(twice.err().contains("--progress is given more than once"), twice.err());
        assertFalse(Files.exists(dir.resolve("b.img")));
    }
}
