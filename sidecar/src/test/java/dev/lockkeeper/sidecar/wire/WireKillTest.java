package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of the target or the source side's JVM mid-copy, then a restart: the copy resumes from its checkpoint. */
class WireKillTest {
    private static final long MiB = 1 << 20;
    private static final long SIZE = 40 * MiB;
    private static final long DATA = (300 << 10) + 13 * MiB + 6 * MiB + 4096;
    private static final Pattern OUTCOME = Pattern.compile(
            "outcome resumedFrom=(\\d+) data=(\\d+) holes=(\\d+) wire=(\\d+) digest=(\\S+) seconds=(\\S+)");

    @TempDir
    Path dir;

    private WireNodes nodes;
    private final List<Process> children = new ArrayList<>();
    private final List<LoopDevice> devices = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        nodes = new WireNodes(dir);
    }

    @AfterEach
    void stop() throws IOException {
        children.forEach(Process::destroyForcibly);
        for (Process child : children) {
            try {
                child.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        nodes.close();
        devices.forEach(LoopDevice::close);
    }

    private Path source() throws IOException {
        return Images.sparse(
                dir.resolve("source.img"), SIZE, 0, 300 << 10, 3 * MiB, 13 * MiB, 25 * MiB, 6 * MiB, SIZE - 4096, 4096);
    }

    private Process pullChild(Path target, Path checkpointFile, long rate) throws IOException {
        return pullChild(target, checkpointFile, rate, Content.KUBEVIRT);
    }

    private Process pullChild(Path target, Path checkpointFile, long rate, Content content) throws IOException {
        Process child = new ProcessBuilder(WireChild.command(
                        "pull",
                        nodes.identities.node("dst").toString(),
                        "127.0.0.1",
                        Integer.toString(nodes.server.port()),
                        "src",
                        "k",
                        target.toString(),
                        checkpointFile.toString(),
                        Long.toString(rate),
                        Long.toString(4 * MiB),
                        "30",
                        "verify",
                        content.name()))
                .redirectError(dir.resolve("child.err").toFile())
                .start();
        children.add(child);
        return child;
    }

    /** Reads the child's progress until it has settled {@code bytes}, then kills it with SIGKILL. */
    private static void killAfter(Process child, long bytes) throws Exception {
        BufferedReader lines =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.startsWith("progress ") && Long.parseLong(line.substring(9)) >= bytes) {
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no final checkpoint
                assertTrue(child.waitFor(10, TimeUnit.SECONDS));
                assertEquals(137, child.exitValue());
                return;
            }
        }
        fail("the child ended before it reached " + bytes + " bytes: " + child.waitFor());
    }

    private Matcher finish(Process child) throws Exception {
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), () -> out + readQuietly(dir.resolve("child.err")));
        Matcher outcome = OUTCOME.matcher(out);
        assertTrue(outcome.find(), out);
        return outcome;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void aKilledTargetResumesMidDataFromItsCheckpoint() throws Exception {
        Path source = source();
        Path target = dir.resolve("target.img");
        Path checkpoints = dir.resolve("checkpoint");
        nodes.serve("k", source, Content.KUBEVIRT);
        killAfter(pullChild(target, checkpoints, 12 * MiB), 10 * MiB);
        Checkpoint checkpoint = new FileCheckpoints(checkpoints).load().orElseThrow();
        assertTrue(checkpoint.offset() >= 4 * MiB, "checkpoint at " + checkpoint.offset());
        assertFalse(Files.exists(target), "a killed copy never carries the final name");
        assertTrue(Files.exists(ImageStreamTarget.partialNameFor(target)));

        Matcher outcome = finish(pullChild(target, checkpoints, 0));
        assertEquals(checkpoint.offset(), Long.parseLong(outcome.group(1)));
        assertTrue(
                Long.parseLong(outcome.group(2)) < DATA, "resent " + outcome.group(2) + " of " + DATA + " data bytes");
        assertTrue(Commands.sameBytes(source, target, SIZE));
        assertEquals(0, Commands.qemuCompare(source, target).exitCode());
        Allocation.assertSame(source, target);
    }

    @Test
    void aDeviceTargetKilledAfterAHoleKeepsItsHeaderWindowZeroAndResumes() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("losetup"), "loop devices need root and losetup");
        Path source = source();
        LoopDevice device =
                LoopDevice.create(dir.resolve("target.backing"), SIZE).filledWithOldData();
        devices.add(device);
        Path checkpoints = dir.resolve("checkpoint");
        nodes.serve("k", source, Content.KUBEVIRT);
        // the body runs from 1 MiB, so progress 24 MiB is offset 25 MiB: reached by the ZERO frame of the hole
        // [16, 25) MiB, and the kill lands right after it, before the data extent at 25 MiB is complete
        killAfter(pullChild(device.path(), checkpoints, 12 * MiB), 24 * MiB);
        assertTrue(new FileCheckpoints(checkpoints).load().orElseThrow().offset() > MiB);
        byte[] window = new byte[(int) MiB];
        try (RandomAccessFile file = new RandomAccessFile(device.path().toFile(), "r")) {
            file.readFully(window);
        }
        assertArrayEquals(new byte[(int) MiB], window, "an unfinished device copy has no recognisable header");

        Matcher outcome = finish(pullChild(device.path(), checkpoints, 0));
        assertTrue(Long.parseLong(outcome.group(1)) > MiB);
        assertTrue(Long.parseLong(outcome.group(2)) < DATA);
        assertTrue(Commands.sameBytes(source, device.path(), SIZE));
        assertEquals(0, Commands.qemuCompare(source, device.path()).exitCode());
    }

    @Test
    void aKilledSourceIsRestartedAndTheTargetResumes() throws Exception {
        Path source = source();
        Path target = dir.resolve("target.img");
        Path portFile = dir.resolve("port");
        Process server = serveChild(source, portFile);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        long[] done = new long[1];
        TransferProgress progress = new TransferProgress() {
            @Override
            public void update(long settled, long total, long dataBytes, long holeBytes) {
                done[0] = settled;
            }

            @Override
            public void verifying() {}
        };
        TlsPuller puller = nodes.puller(TlsPuller.Options.DEFAULT.withCheckpointBytes(4 * MiB));
        var request = new dev.lockkeeper.sidecar.transfer.PullRequest(
                "k",
                1,
                "src",
                new java.net.InetSocketAddress("127.0.0.1", WireChild.port(portFile)),
                target,
                Content.KUBEVIRT,
                false,
                false,
                0.06,
                true,
                new SteadyRate(12 * MiB));
        CompletableFuture<TransferOutcome> first = CompletableFuture.supplyAsync(() -> {
            try {
                return puller.pull(request, checkpoints, progress, () -> false);
            } catch (TransferException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        while (done[0] < 10 * MiB && !first.isDone()) Thread.sleep(20);
        server.destroyForcibly();
        assertTrue(server.waitFor(10, TimeUnit.SECONDS));
        var failure = assertThrows(java.util.concurrent.CompletionException.class, first::join);
        assertTrue(
                failure.getCause() instanceof TransferException t && t.retryable(), String.valueOf(failure.getCause()));
        long from = checkpoints.load().orElseThrow().offset();
        assertTrue(from >= 4 * MiB);

        Files.delete(portFile);
        serveChild(source, portFile);
        var again = new dev.lockkeeper.sidecar.transfer.PullRequest(
                "k",
                2,
                "src",
                new java.net.InetSocketAddress("127.0.0.1", WireChild.port(portFile)),
                target,
                Content.KUBEVIRT,
                false,
                false,
                0.06,
                true,
                dev.lockkeeper.sidecar.transfer.RateLimiter.UNLIMITED);
        TransferOutcome outcome = puller.pull(again, checkpoints, progress, () -> false);
        assertEquals(from, outcome.resumedFrom());
        assertTrue(outcome.dataBytes() < DATA);
        assertTrue(Commands.sameBytes(source, target, SIZE));
        Allocation.assertSame(source, target);
    }

    private Process serveChild(Path source, Path portFile) throws IOException {
        return serveChild(source, portFile, Content.KUBEVIRT);
    }

    private Process serveChild(Path source, Path portFile, Content content) throws IOException {
        Process child = WireChild.serve(nodes, "k", source, content, portFile, dir.resolve("server.out"));
        children.add(child);
        return child;
    }

    /** 24 files of 1 MiB: a tree a kill lands in the middle of, with checkpoints every 4 MiB. */
    private Path sourceTree() throws IOException {
        return Trees.many(Files.createDirectories(dir.resolve("source-tree")), 24, MiB);
    }

    @Test
    void aTargetKilledMidTreeResumesAfterItsLastDurableEntry() throws Exception {
        Path source = sourceTree();
        Path target = dir.resolve("target-tree");
        Path checkpoints = dir.resolve("checkpoint");
        nodes.serve("k", source, Content.ARCHIVE);
        killAfter(pullChild(target, checkpoints, 12 * MiB, Content.ARCHIVE), 12 * MiB);
        Checkpoint checkpoint = new FileCheckpoints(checkpoints).load().orElseThrow();
        assertTrue(checkpoint.entries() > 4, "checkpoint at entry " + checkpoint.entries());
        assertTrue(Files.isDirectory(target.resolve(".lockkeeper-partial")), "a killed tree copy is marked unfinished");

        Matcher outcome = finish(pullChild(target, checkpoints, 0, Content.ARCHIVE));
        assertEquals(checkpoint.entries(), Long.parseLong(outcome.group(1)));
        assertTrue(Long.parseLong(outcome.group(2)) < 24 * MiB - 4 * MiB, "resent " + outcome.group(2));
        assertEquals(Trees.describe(source), Trees.describe(target));
        assertEquals(dev.lockkeeper.sidecar.copy.TreeDigest.summarize(source).content(), outcome.group(5));
        assertFalse(Files.exists(target.resolve(".lockkeeper-partial")));
    }

    @Test
    void aSourceKilledMidTreeIsRestartedAndTheTargetResumes() throws Exception {
        Path source = sourceTree();
        Path target = dir.resolve("target-tree");
        Path portFile = dir.resolve("port");
        Process server = serveChild(source, portFile, Content.ARCHIVE);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        long[] done = new long[1];
        TransferProgress progress = new TransferProgress() {
            @Override
            public void update(long settled, long total, long dataBytes, long holeBytes) {
                done[0] = settled;
            }

            @Override
            public void verifying() {}
        };
        TlsPuller puller = nodes.puller(TlsPuller.Options.DEFAULT.withCheckpointBytes(4 * MiB));
        var request = new dev.lockkeeper.sidecar.transfer.PullRequest(
                "k",
                1,
                "src",
                new java.net.InetSocketAddress("127.0.0.1", WireChild.port(portFile)),
                target,
                Content.ARCHIVE,
                false,
                false,
                0.06,
                true,
                new SteadyRate(12 * MiB));
        CompletableFuture<TransferOutcome> first = CompletableFuture.supplyAsync(() -> {
            try {
                return puller.pull(request, checkpoints, progress, () -> false);
            } catch (TransferException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        while (done[0] < 12 * MiB && !first.isDone()) Thread.sleep(20);
        server.destroyForcibly();
        assertTrue(server.waitFor(10, TimeUnit.SECONDS));
        var failure = assertThrows(java.util.concurrent.CompletionException.class, first::join);
        assertTrue(
                failure.getCause() instanceof TransferException t && t.retryable(), String.valueOf(failure.getCause()));
        long from = checkpoints.load().orElseThrow().entries();
        assertTrue(from > 4, "checkpoint at entry " + from);

        Files.delete(portFile);
        serveChild(source, portFile, Content.ARCHIVE);
        var again = new dev.lockkeeper.sidecar.transfer.PullRequest(
                "k",
                2,
                "src",
                new java.net.InetSocketAddress("127.0.0.1", WireChild.port(portFile)),
                target,
                Content.ARCHIVE,
                false,
                false,
                0.06,
                true,
                dev.lockkeeper.sidecar.transfer.RateLimiter.UNLIMITED);
        TransferOutcome outcome = puller.pull(again, checkpoints, progress, () -> false);
        assertEquals(from, outcome.resumedFrom());
        assertTrue(outcome.dataBytes() < 24 * MiB - 4 * MiB, "resent " + outcome.dataBytes());
        assertEquals(Trees.describe(source), Trees.describe(target));
    }
}
