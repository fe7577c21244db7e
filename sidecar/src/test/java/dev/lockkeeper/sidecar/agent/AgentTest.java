package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.Puller;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent in this JVM with a real task directory and state directory: local copies through the real engine, and
 * a scripted puller standing in for the network to drive retries, checkpoints and failures.
 */
class AgentTest {
    private static final long MiB = 1 << 20;
    private static final String NODE = "node-b";

    @TempDir
    Path dir;

    private Path tasks;
    private Path data;
    private Agent agent;
    private final List<PullRequest> pulls = new CopyOnWriteArrayList<>();
    private volatile Puller puller = (request, checkpoints, progress, canceled) -> fail("no pull expected");
    /** Runs when the agent opens its data port, before its task intake starts. */
    private volatile Consumer<SourceCatalog> whenServing = catalog -> {};

    @BeforeEach
    void directories() throws IOException {
        tasks = Files.createDirectory(dir.resolve("tasks"));
        data = Files.createDirectory(dir.resolve("data"));
    }

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
    }

    private Agent start(int maxTasks, long maxRate) throws IOException {
        AgentSettings settings = new AgentSettings(
                NODE,
                tasks,
                dir.resolve("kubelet"),
                List.of(data),
                dir.resolve("state"),
                Optional.empty(),
                new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", 0),
                maxTasks,
                maxRate,
                Map.of("node-a", "127.0.0.1:1"),
                Duration.ofMillis(300),
                Duration.ofMillis(10),
                Duration.ofMillis(40),
                AgentSettings.DEFAULT_CHECKPOINT_BYTES,
                Duration.ofSeconds(10),
                AgentSettings.DEFAULT_STALL);
        DataPlane scripted = new DataPlane() {
            @Override
            public Puller puller(AgentMetrics metrics) {
                return (request, checkpoints, progress, canceled) -> {
                    pulls.add(request);
                    return puller.pull(request, checkpoints, progress, canceled);
                };
            }

            @Override
            public Serving serve(SourceCatalog catalog, RateLimiter rate, AgentMetrics metrics) throws IOException {
                whenServing.accept(catalog);
                return DataPlane.NONE.serve(catalog, rate, metrics);
            }
        };
        agent = new Agent(
                settings,
                new TaskDirectory(tasks),
                new VolumeLocator(settings.kubeletRoot(), settings.allowedRoots()),
                new StateDirectory(settings.stateDir()),
                scripted);
        agent.start();
        return agent;
    }

    private TaskStatus awaitStatus(String name, Predicate<TaskStatus> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Optional<TaskStatus> last = Optional.empty();
        while (System.nanoTime() < deadline) {
            last = readStatus(name);
            if (last.isPresent() && condition.test(last.get())) return last.get();
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new AssertionError("task " + name + " never reached the expected status; last: " + last);
    }

    private Optional<TaskStatus> readStatus(String name) {
        try {
            return TaskFiles.readStatus(TaskFiles.statusFileOf(tasks, name));
        } catch (IOException e) {
            return Optional.empty(); // replaced while read
        }
    }

    private static Predicate<TaskStatus> in(Phase phase) {
        return status -> status.phase() == phase;
    }

    @Test
    void copiesAnImageOnThisNodeAndReportsItsDigest() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), 32 * MiB, 0, 4 * MiB, 20 * MiB, 4 * MiB);
        start(2, 0);
        Tasks.write(tasks, "local", Tasks.hostPathTask("local", NODE, source, NODE, data.resolve("copy.img"), ""));

        TaskStatus done = awaitStatus("local", status -> status.phase().terminal());
        assertEquals(Phase.Succeeded, done.phase(), () -> "message: " + done.message());
        assertTrue(Commands.sameBytes(source, data.resolve("copy.img"), 32 * MiB));
        assertEquals(32 * MiB, done.bytesTotal());
        assertEquals(32 * MiB, done.bytesDone());
        assertEquals(8 * MiB, done.dataBytes());
        assertEquals("100.00%", done.progress());
        assertEquals(1, done.attempt());
        assertNotNull(done.digest(), "verification is on by default and its digest is reported");
        assertNotNull(done.completionTime());
        assertTrue(
                agent.metrics()
                        .scrape()
                        .contains("lockkeeper_agent_bytes_total{kind=\"data\",role=\"local\"} 8388608.0"),
                agent.metrics().scrape());
        assertTrue(agent.metrics().scrape().contains("lockkeeper_agent_tasks{phase=\"Succeeded\"} 1.0"));
    }

    @Test
    void runsAtMostMaxTasksAtOnceAndQueuesTheRest() throws Exception {
        List<Path> sources = new ArrayList<>();
        for (int i = 0; i < 3; i++)
            sources.add(Images.sparse(data.resolve("source-" + i + ".img"), 6 * MiB, 0, 6 * MiB));
        start(1, 12 * MiB); // each copy takes about half a second at this rate, so the others visibly wait
        for (int i = 0; i < 3; i++) {
            Tasks.write(
                    tasks,
                    "t" + i,
                    Tasks.hostPathTask("t" + i, NODE, sources.get(i), NODE, data.resolve("copy-" + i + ".img"), ""));
        }
        boolean sawQueuedWhileAnotherRan = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            List<Phase> phases = new ArrayList<>();
            for (int i = 0; i < 3; i++)
                phases.add(readStatus("t" + i).map(TaskStatus::phase).orElse(Phase.Queued));
            long active = phases.stream()
                    .filter(p -> p == Phase.Running || p == Phase.Verifying)
                    .count();
            assertTrue(active <= 1, "more than --max-tasks copies at once: " + phases);
            if (active == 1 && phases.contains(Phase.Queued)) sawQueuedWhileAnotherRan = true;
            if (phases.stream().allMatch(Phase::terminal)) break;
            TimeUnit.MILLISECONDS.sleep(10);
        }
        assertTrue(sawQueuedWhileAnotherRan);
        for (int i = 0; i < 3; i++) {
            assertEquals(Phase.Succeeded, readStatus("t" + i).orElseThrow().phase());
            assertTrue(Commands.sameBytes(sources.get(i), data.resolve("copy-" + i + ".img"), 6 * MiB));
        }
    }

    @Test
    void cancelStopsARunningCopyAndLeavesNoTarget() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), 64 * MiB, 0, 64 * MiB);
        start(2, 0);
        String task = Tasks.hostPathTask("slow", NODE, source, NODE, data.resolve("copy.img"), "maxRate: 8M");
        Tasks.write(tasks, "slow", task);
        awaitStatus("slow", status -> status.phase() == Phase.Running && status.bytesDone() > 0);
        Tasks.write(tasks, "slow", task.replace("maxRate: 8M", "maxRate: 8M\n  cancel: true"));

        TaskStatus done = awaitStatus("slow", status -> status.phase().terminal());
        assertEquals(Phase.Canceled, done.phase());
        try (var left = Files.list(data)) {
            assertEquals(List.of(source), left.toList(), "neither the copy nor its partial file is left");
        }
    }

    @Test
    void aTransientFailureIsRetriedFromItsCheckpoint() throws Exception {
        Path target = data.resolve("copy.img");
        List<Optional<Checkpoint>> seen = new CopyOnWriteArrayList<>();
        puller = (request, checkpoints, progress, canceled) -> {
            seen.add(checkpoints.load());
            if (seen.size() == 1) {
                progress.update(4 * MiB, 16 * MiB, 4 * MiB, 0);
                checkpoints.save(new Checkpoint(4 * MiB, 0, "size=16777216"));
                throw new TransferException("connection reset by node-a", true);
            }
            return new TransferOutcome(
                    16 * MiB,
                    8 * MiB,
                    8 * MiB,
                    checkpoints.load().orElseThrow().offset(),
                    8 * MiB,
                    Optional.of("sha256:ab"));
        };
        start(2, 0);
        Tasks.write(
                tasks, "remote", Tasks.hostPathTask("remote", "node-a", Path.of("/srv/source.img"), NODE, target, ""));

        TaskStatus done = awaitStatus("remote", status -> status.phase().terminal());
        assertEquals(Phase.Succeeded, done.phase(), () -> "message: " + done.message());
        assertEquals(List.of(Optional.empty(), Optional.of(new Checkpoint(4 * MiB, 0, "size=16777216"))), seen);
        assertEquals(2, done.attempt());
        assertEquals(4 * MiB, done.resumedFrom());
        assertEquals("sha256:ab", done.digest());
        assertEquals(List.of(1, 2), pulls.stream().map(PullRequest::attempt).toList());
        assertEquals(new InetSocketAddress("127.0.0.1", 1), pulls.getFirst().sourceAddress(), "from the peer table");
        assertEquals(target, pulls.getFirst().target());
        assertTrue(agent.metrics().scrape().contains("lockkeeper_agent_resumes_total 1.0"));
        assertFalse(Files.exists(dir.resolve("state/remote.json")), "a finished task leaves no state behind");
    }

    @Test
    void aSourceAgentWhoseIntakeHasNotScannedYetAsksTheCallerToRetry() throws Exception {
        List<TransferException> answers = new CopyOnWriteArrayList<>();
        whenServing = catalog ->
                answers.add(assertThrows(TransferException.class, () -> catalog.open("copied-here", "node-b")));
        Agent started = start(2, 0);
        TransferException starting = answers.getFirst();
        assertTrue(starting.retryable(), starting.getMessage());
        assertEquals("node " + NODE + " is starting: its tasks are not loaded yet", starting.getMessage());
        TransferException unknown = assertThrows(TransferException.class, () -> started.open("copied-here", "node-b"));
        assertFalse(unknown.retryable(), "once the intake has scanned, an unknown task is final");
    }

    @Test
    void aPermanentFailureFailsAtOnce() throws Exception {
        puller = (request, checkpoints, progress, canceled) -> {
            throw new TransferException("target volume is too small: it holds 1 GiB, the source is 2 GiB", false);
        };
        start(2, 0);
        Tasks.write(
                tasks,
                "small",
                Tasks.hostPathTask("small", "node-a", Path.of("/srv/source.img"), NODE, data.resolve("x.img"), ""));
        TaskStatus done = awaitStatus("small", status -> status.phase().terminal());
        assertEquals(Phase.Failed, done.phase());
        assertEquals("target volume is too small: it holds 1 GiB, the source is 2 GiB", done.message());
        assertEquals(1, pulls.size());
    }

    @Test
    void transientFailuresStopAtTheRetryDeadline() throws Exception {
        puller = (request, checkpoints, progress, canceled) -> {
            throw new TransferException("no route to node-a", true);
        };
        start(2, 0);
        Tasks.write(
                tasks,
                "away",
                Tasks.hostPathTask("away", "node-a", Path.of("/srv/source.img"), NODE, data.resolve("x.img"), ""));
        TaskStatus done = awaitStatus("away", status -> status.phase().terminal());
        assertEquals(Phase.Failed, done.phase());
        assertEquals("no route to node-a (gave up after " + pulls.size() + " attempts)", done.message());
        assertTrue(pulls.size() >= 3, "retried with backoff before the deadline: " + pulls.size());
    }

    @Test
    void aRestartedAgentContinuesFromItsStateDirectory() throws Exception {
        Files.createDirectories(dir.resolve("state"));
        new StateDirectory(dir.resolve("state")).recordAttempt("resumed", 3);
        new StateDirectory(dir.resolve("state"))
                .checkpoints("resumed")
                .save(new Checkpoint(12 * MiB, 0, "size=16777216"));
        TaskFiles.writeStatus(
                TaskFiles.statusFileOf(tasks, "resumed"),
                TaskStatus.queued(NODE, 3).withPhase(Phase.Running, null));
        puller = (request, checkpoints, progress, canceled) -> new TransferOutcome(
                16 * MiB, 16 * MiB, 0, checkpoints.load().orElseThrow().offset(), 4 * MiB, Optional.empty());
        Tasks.write(
                tasks,
                "resumed",
                Tasks.hostPathTask("resumed", "node-a", Path.of("/srv/s.img"), NODE, data.resolve("x.img"), ""));
        start(2, 0);

        TaskStatus done = awaitStatus("resumed", in(Phase.Succeeded));
        assertEquals(4, done.attempt());
        assertEquals(12 * MiB, done.resumedFrom());
        assertEquals(12 * MiB, done.checkpointOffset(), "the checkpoint the attempt started from is shown");
    }

    @Test
    void aFinishedTaskIsNotRunAgainAfterARestart() throws Exception {
        TaskFiles.writeStatus(
                TaskFiles.statusFileOf(tasks, "old"), TaskStatus.queued(NODE, 1).succeeded(1, 1, 0, "sha256:cd"));
        Tasks.write(
                tasks,
                "old",
                Tasks.hostPathTask("old", "node-a", Path.of("/srv/s.img"), NODE, data.resolve("x.img"), ""));
        start(2, 0);
        TimeUnit.MILLISECONDS.sleep(300);
        assertEquals(List.of(), pulls);
        assertEquals("sha256:cd", readStatus("old").orElseThrow().digest());
    }

    @Test
    void anUnreadableTaskFileFailsWithTheReasonAndAFixedOneRuns() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), 4 * MiB, 0, 4 * MiB);
        start(2, 0);
        Tasks.write(
                tasks,
                "typo",
                Tasks.hostPathTask("typo", NODE, source, NODE, data.resolve("copy.img"), "verfiy: false"));
        TaskStatus rejected = awaitStatus("typo", in(Phase.Failed));
        assertEquals("spec has an unknown field 'verfiy'", rejected.message());

        Tasks.write(
                tasks,
                "typo",
                Tasks.hostPathTask("typo", NODE, source, NODE, data.resolve("copy.img"), "verify: false"));
        assertEquals(
                Phase.Succeeded,
                awaitStatus("typo", status -> status.phase() == Phase.Succeeded).phase());
        assertTrue(Commands.sameBytes(source, data.resolve("copy.img"), 4 * MiB));
    }

    /**
     * Puts a file into the task directory whole (written beside it, then renamed), as a person's editor or
     * {@code kubectl cp} would: the agent may scan at any moment, and a half-written file is rejected for what it is
     * then, which is not what the test asks about.
     */
    private static void whole(Path file, String content) throws IOException {
        Path written = Files.writeString(
                file.resolveSibling("." + file.getFileName() + ".tmp"),
                content,
                java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.move(written, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void hostileTaskFilesAreRefusedWithAReason() throws Exception {
        start(2, 0);
        whole(tasks.resolve("broken.yaml"), "apiVersion: [unclosed");
        whole(tasks.resolve("dup.json"), "{\"apiVersion\":\"a\",\"apiVersion\":\"b\"}");
        whole(
                tasks.resolve("huge.yaml"),
                new String(new byte[TaskFiles.MAX_TASK_BYTES + 1], java.nio.charset.StandardCharsets.ISO_8859_1));
        whole(
                tasks.resolve("renamed.yaml"),
                Tasks.hostPathTask("other", NODE, data.resolve("a"), NODE, data.resolve("b"), ""));
        whole(
                tasks.resolve("bomb.yaml"),
                "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                        + "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n");
        assertTrue(awaitStatus("broken", in(Phase.Failed)).message().startsWith("the task file is not valid YAML"));
        assertTrue(awaitStatus("dup", in(Phase.Failed))
                .message()
                .startsWith("the task file is not valid JSON: Duplicate field 'apiVersion'"));
        assertEquals(
                "the task file is " + (TaskFiles.MAX_TASK_BYTES + 1) + " bytes; at most " + TaskFiles.MAX_TASK_BYTES
                        + " are read",
                awaitStatus("huge", in(Phase.Failed)).message());
        assertEquals(
                "metadata.name 'other' differs from the file's name 'renamed': name the file after the task",
                awaitStatus("renamed", in(Phase.Failed)).message());
        assertEquals(Phase.Failed, awaitStatus("bomb", in(Phase.Failed)).phase());
    }

    @Test
    void aTaskOfOtherNodesIsLeftAlone() throws Exception {
        start(2, 0);
        Tasks.write(
                tasks,
                "theirs",
                Tasks.hostPathTask("theirs", "node-a", Path.of("/srv/a"), "node-c", Path.of("/srv/b"), ""));
        Tasks.write(
                tasks,
                "mine",
                Tasks.hostPathTask(
                        "mine",
                        NODE,
                        Images.sparse(data.resolve("s.img"), MiB, 0, MiB),
                        NODE,
                        data.resolve("c.img"),
                        ""));
        awaitStatus("mine", in(Phase.Succeeded));
        assertFalse(Files.exists(TaskFiles.statusFileOf(tasks, "theirs")), "only the target's agent writes a status");
    }

    @Test
    void removingATaskFileCancelsItAndRemovesItsStatus() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), 64 * MiB, 0, 64 * MiB);
        start(2, 0);
        Path file = Tasks.write(
                tasks, "gone", Tasks.hostPathTask("gone", NODE, source, NODE, data.resolve("copy.img"), "maxRate: 8M"));
        awaitStatus("gone", status -> status.phase() == Phase.Running && status.bytesDone() > 0);
        Files.delete(file);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline
                && (Files.exists(data.resolve("copy.img")) || Files.list(data).count() > 1)) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        TimeUnit.MILLISECONDS.sleep(1500); // past the next status tick, which must not bring the file back
        assertFalse(Files.exists(TaskFiles.statusFileOf(tasks, "gone")));
        try (var left = Files.list(data)) {
            assertEquals(List.of(source), left.toList());
        }
    }

    // ---- hostile targets and failures, through the whole agent ----

    private static final String POD = "0b9a4c1e-5f7d-4c1a-9e7b-2d3c4b5a6f70";

    /** A task copying {@code source} (a plain path) into the filesystem volume {@code pvc-1} of {@link #POD} on this node. */
    private static String intoKubeletVolume(String name, Path source) {
        return Tasks.hostPathTask(name, NODE, source, NODE, Path.of("/unused"), "contentType: kubevirt")
                .replace(
                        "    path: /unused\n",
                        "    volume: {podUID: " + POD + ", pvName: pvc-1, volumeMode: Filesystem}\n");
    }

    @Test
    void aNonMountDirectoryIsNeverWrittenAsATargetVolume() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), MiB, 0, MiB);
        Path leftover =
                Files.createDirectories(dir.resolve("kubelet/pods/" + POD + "/volumes/kubernetes.io~csi/pvc-1/mount"));
        start(2, 0);
        Tasks.write(tasks, "leftover", intoKubeletVolume("leftover", source));
        TaskStatus done = awaitStatus("leftover", status -> status.phase().terminal());
        assertEquals(Phase.Failed, done.phase());
        assertEquals(
                "target " + leftover + " is not a mount point: the volume is not mounted on this node (a leftover "
                        + "directory is never written)",
                done.message());
        try (var entries = Files.list(leftover)) {
            assertEquals(List.of(), entries.toList(), "nothing was written into the leftover directory");
        }
    }

    @Test
    void aSymlinkedPodDirectoryIsRefused() throws Exception {
        assumeTrue(Commands.isRoot(), "the volume elsewhere is a real tmpfs mount, which needs root");
        Path source = Images.sparse(data.resolve("source.img"), MiB, 0, MiB);
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere/volumes/kubernetes.io~csi/pvc-1"));
        try (Mount mounted = Mount.of("tmpfs", elsewhere.resolve("mount"))) {
            Files.createDirectories(dir.resolve("kubelet/pods"));
            Files.createSymbolicLink(dir.resolve("kubelet/pods/" + POD), dir.resolve("elsewhere"));
            start(2, 0);
            Tasks.write(tasks, "linked", intoKubeletVolume("linked", source));
            TaskStatus done = awaitStatus("linked", status -> status.phase().terminal());
            assertEquals(Phase.Failed, done.phase());
            assertTrue(done.message().contains("symbolic link"), done.message());
            try (var entries = Files.list(mounted.point())) {
                assertEquals(List.of(), entries.toList(), "nothing was written through the link");
            }
        }
    }

    @Test
    void runningOutOfSpaceMidCopyFailsAndLeavesNothingThatLooksComplete() throws Exception {
        assumeTrue(Commands.isRoot(), "loop devices and an ext4 mount need root");
        // a device source: its data size is unknown until read, so the free-space check cannot refuse it up front
        try (LoopDevice sourceDevice = LoopDevice.create(dir.resolve("source.backing"), 32 * MiB)
                        .filledWithOldData();
                LoopDevice small = LoopDevice.create(dir.resolve("small.backing"), 16 * MiB)) {
            Commands.ok("mkfs.ext4", "-q", "-F", small.path().toString());
            try (Mount mounted = Mount.device(small.path(), data.resolve("small"))) {
                Path source = data.resolve("source-dev");
                String[] majorMinor = Commands.ok(
                                "stat", "-L", "-c", "%t %T", sourceDevice.path().toString())
                        .trim()
                        .split(" ");
                Commands.ok(
                        "mknod",
                        source.toString(),
                        "b",
                        Integer.toString(Integer.parseInt(majorMinor[0], 16)),
                        Integer.toString(Integer.parseInt(majorMinor[1], 16)));
                Path target = mounted.point().resolve("copy.img");
                start(2, 0);
                Tasks.write(tasks, "full", Tasks.hostPathTask("full", NODE, source, NODE, target, ""));
                TaskStatus done = awaitStatus("full", status -> status.phase().terminal());
                assertEquals(Phase.Failed, done.phase());
                assertTrue(done.message().startsWith("target ran out of space"), done.message());
                assertEquals(1, done.attempt(), "running out of space is not retried");
                try (var entries = Files.list(mounted.point())) {
                    assertEquals(
                            List.of(mounted.point().resolve("lost+found")),
                            entries.toList(),
                            "neither the target nor its partial file is left");
                }
                // the terminal status is written first (a crash between the two must not restart the task from byte
                // 0), then the checkpoint goes: wait for it, bounded
                Path checkpoint = dir.resolve("state/full.json");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (Files.exists(checkpoint) && System.nanoTime() < deadline) TimeUnit.MILLISECONDS.sleep(20);
                assertFalse(Files.exists(checkpoint), "the failed task's checkpoint is removed");
            }
        }
    }

    @Test
    void theSourceSideServesOnlyItsTasksToTheirTargets() throws Exception {
        Path source = Images.sparse(data.resolve("source.img"), MiB, 0, MiB);
        start(2, 0);
        Tasks.write(tasks, "out", Tasks.hostPathTask("out", NODE, source, "node-c", Path.of("/srv/copy.img"), ""));
        Tasks.write(tasks, "marker", Tasks.hostPathTask("marker", NODE, source, NODE, data.resolve("m.img"), ""));
        awaitStatus("marker", in(Phase.Succeeded)); // the intake has delivered both files by now

        ServedSource served = agent.open("out", "node-c");
        assertEquals(source.toRealPath(), served.source());
        assertEquals(
                "task out copies to node node-c; node node-d may not read its source",
                assertThrows(TransferException.class, () -> agent.open("out", "node-d"))
                        .getMessage());
        assertEquals(
                "node node-b is not the source of any task named nothing",
                assertThrows(TransferException.class, () -> agent.open("nothing", "node-c"))
                        .getMessage());
        assertEquals(
                "node node-b is not the source of any task named marker",
                assertThrows(TransferException.class, () -> agent.open("marker", "node-b"))
                        .getMessage(),
                "a copy within one node is never served to the network");

        Tasks.write(
                tasks,
                "out",
                Tasks.hostPathTask("out", NODE, source, "node-c", Path.of("/srv/copy.img"), "cancel: true"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                agent.open("out", "node-c");
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (TransferException e) {
                assertEquals("task out is canceled", e.getMessage());
                return;
            }
        }
        fail("a canceled task's source was still served");
    }
}
