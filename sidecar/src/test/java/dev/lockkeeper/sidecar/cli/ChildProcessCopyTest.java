package dev.lockkeeper.sidecar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.copy.VolumeCopier;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy as a separate JVM (heap capped at 64 MiB): killed with SIGKILL part-way, run without the
 * capabilities that let root read anything, and run over a 100 GiB volume.
 */
class ChildProcessCopyTest {
    private static final long MiB = 1 << 20;
    private static final Pattern PROGRESS = Pattern.compile("\"bytes\":(\\d+),\"total\":(\\d+)");
    /** Root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH obeys file modes like any user. */
    private static final List<String> WITHOUT_ROOT_READ_POWERS =
            List.of("setpriv", "--bounding-set", "-dac_override,-dac_read_search");

    @TempDir
    Path dir;

    /** Starts a throttled copy, waits for a progress line that shows it part-way, and kills it with SIGKILL. */
    private static void killMidCopy(Path source, Path target) throws IOException, InterruptedException {
        stopMidCopy(source, target, true);
    }

    /**
     * The same with SIGKILL ({@code forcibly}) or SIGTERM; the exit status is 128 + the signal either way, since a
     * JVM that runs its shutdown hooks on SIGTERM still reports the signal.
     */
    private static void stopMidCopy(Path source, Path target, boolean forcibly)
            throws IOException, InterruptedException {
        Process copy = new ProcessBuilder(Commands.sidecarCommand(
                        List.of(),
                        "copy",
                        source.toString(),
                        target.toString(),
                        "--progress",
                        "json",
                        "--max-rate",
                        "8M"))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        boolean stoppedMidway = false;
        try (BufferedReader lines =
                new BufferedReader(new InputStreamReader(copy.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                Matcher progress = PROGRESS.matcher(line);
                if (progress.find()
                        && Long.parseLong(progress.group(1)) > 0
                        && Long.parseLong(progress.group(1)) < Long.parseLong(progress.group(2))) {
                    if (forcibly) copy.destroyForcibly();
                    else copy.destroy();
                    stoppedMidway = true;
                    break;
                }
            }
        } finally {
            if (!copy.waitFor(30, TimeUnit.SECONDS)) copy.destroyForcibly();
            copy.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(stoppedMidway, "the copy finished before it could be stopped part-way");
        assertEquals(forcibly ? 137 : 143, copy.exitValue(), forcibly ? "killed by SIGKILL" : "stopped by SIGTERM");
    }

    @Test
    void killedFileCopyNeverHasTheFinalName() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 64 * MiB, 0, 32 * MiB);
        Path target = dir.resolve("target.img");

        killMidCopy(source, target);

        assertFalse(Files.exists(target), "a killed copy must not leave the final name");
        assertTrue(
                Files.exists(dir.resolve(".target.img" + VolumeCopier.PARTIAL_MARKER)),
                "the partial file is left, and named as such");
    }

    @Test
    void killedDeviceCopyKeepsTheHeaderWindowZero() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("losetup"), "loop devices need root");
        Path source = Images.sparse(dir.resolve("source.img"), 32 * MiB, 0, 32 * MiB);
        try (LoopDevice target =
                LoopDevice.create(dir.resolve("target.backing"), 32 * MiB).filledWithOldData()) {
            killMidCopy(source, target.path());

            byte[] header = new byte[(int) VolumeCopier.DEVICE_HEADER_WINDOW];
            try (RandomAccessFile device = new RandomAccessFile(target.path().toFile(), "r")) {
                device.readFully(header);
            }
            for (byte b : header) assertEquals(0, b, "the first MiB must stay zero until the copy is complete");
            assertFalse(Commands.sameBytes(source, target.path(), 32 * MiB));
        }
    }

    @Test
    void killedTreeCopyKeepsItsStagingDirectoryAndPublishesNothing() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        for (int i = 0; i < 8; i++) Images.sparse(source.resolve("part" + i), 4 * MiB, 0, 4 * MiB);
        Path target = Files.createDirectories(dir.resolve("target"));

        killMidCopy(source, target);

        try (var entries = Files.list(target)) {
            assertEquals(List.of(target.resolve(VolumeCopier.PARTIAL_MARKER)), entries.toList());
        }
    }

    @Test
    void terminatedFileCopyRemovesItsPartialFile() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 64 * MiB, 0, 32 * MiB);
        Path target = dir.resolve("target.img");

        stopMidCopy(source, target, false);

        try (var entries = Files.list(dir)) {
            assertEquals(List.of(source), entries.toList(), "neither the final name nor the partial file is left");
        }
    }

    @Test
    void terminatedTreeCopyEmptiesItsStagingDirectoryAndKeepsItAsTheMark() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        for (int i = 0; i < 8; i++) Images.sparse(source.resolve("part" + i), 4 * MiB, 0, 4 * MiB);
        Path target = Files.createDirectories(dir.resolve("target"));

        stopMidCopy(source, target, false);

        assertOnlyAnEmptyMark(target);
    }

    @Test
    void killedTreeCopyIntoAnAbsentTargetLeavesItMarkedUnfinished() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        for (int i = 0; i < 8; i++) Images.sparse(source.resolve("part" + i), 4 * MiB, 0, 4 * MiB);
        Path target = dir.resolve("target");

        killMidCopy(source, target);

        try (var entries = Files.list(target)) {
            assertEquals(List.of(target.resolve(VolumeCopier.PARTIAL_MARKER)), entries.toList());
        }
    }

    /** The staging directory, emptied: nothing of the copy is left, and the target cannot pass for a complete empty volume. */
    private static void assertOnlyAnEmptyMark(Path target) throws IOException {
        try (var entries = Files.list(target)) {
            assertEquals(List.of(target.resolve(VolumeCopier.PARTIAL_MARKER)), entries.toList());
        }
        try (var entries = Files.list(target.resolve(VolumeCopier.PARTIAL_MARKER))) {
            assertEquals(List.of(), entries.toList());
        }
    }

    @Test
    void permissionDeniedOnTheSource() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("setpriv"), "drops root's read-anything capabilities");
        Path source = Images.sparse(dir.resolve("locked.img"), MiB, 0, 4096);
        Commands.ok("chmod", "000", source.toString());

        Commands.Result result = Commands.run(Commands.sidecarCommand(
                        WITHOUT_ROOT_READ_POWERS,
                        "copy",
                        source.toString(),
                        dir.resolve("out.img").toString())
                .toArray(String[]::new));

        assertEquals(1, result.exitCode(), result.stderr());
        assertTrue(result.stderr().contains("permission denied"), result.stderr());
        assertFalse(result.stderr().contains("\tat "), result.stderr());
        assertFalse(Files.exists(dir.resolve("out.img")));
    }

    @Test
    void unreadableFileInATreeFailsTheCopyAndPublishesNothing() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("setpriv"), "drops root's read-anything capabilities");
        Path source = Files.createDirectories(dir.resolve("source/sub"));
        Files.writeString(source.resolve("readable"), "ok");
        Files.writeString(source.resolve("unreadable"), "secret");
        Commands.ok("chmod", "000", source.resolve("unreadable").toString());
        Path target = Files.createDirectories(dir.resolve("target"));

        Commands.Result result = Commands.run(Commands.sidecarCommand(
                        WITHOUT_ROOT_READ_POWERS, "copy", source.getParent().toString(), target.toString())
                .toArray(String[]::new));

        assertEquals(1, result.exitCode(), result.stderr());
        assertTrue(
                result.stderr().contains("permission denied") && result.stderr().contains("unreadable"),
                result.stderr());
        assertOnlyAnEmptyMark(target);
    }

    @Test
    void anArchitectureWithoutASystemCallTableIsRefusedInOneLine() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), MiB, 0, 4096);

        Commands.Result result = Commands.run(Commands.sidecarCommand(
                        List.of(),
                        List.of("-Dos.arch=s390x"),
                        "copy",
                        source.toString(),
                        dir.resolve("out.img").toString())
                .toArray(String[]::new));

        assertEquals(1, result.exitCode(), result.stderr());
        assertEquals(
                "lockkeeper-sidecar copy: error: this machine's architecture s390x is not supported: lockkeeper-sidecar "
                        + "knows the Linux system call numbers of x86_64 (amd64) and aarch64 only\n",
                result.stderr());
        assertFalse(Files.exists(dir.resolve("out.img")));
    }

    @Test
    void aHundredGibVolumeCopiesInA64MibHeap() throws Exception {
        long size = 100L << 30;
        Path source =
                Images.sparse(dir.resolve("big.img"), size, 0, 8 * MiB, 50L << 30, 8 * MiB, size - 8 * MiB, 8 * MiB);
        Path target = dir.resolve("copy.img");

        Commands.Result result = Commands.run(
                Commands.sidecarCommand(List.of(), "copy", source.toString(), target.toString(), "--verify")
                        .toArray(String[]::new));

        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals(size, Files.size(target));
        assertEquals(Commands.allocatedBytes(source), Commands.allocatedBytes(target));
        assertEquals(0, Commands.qemuCompare(source, target).exitCode());
    }
}
