package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.copy.VolumeCopier;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two agents as real processes on loopback, one per "node", each with its node certificate from one agent CA and its
 * own task directory holding the same task (as each node's informer would): the target agent pulls over mTLS.
 */
class AgentProcessTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    private final List<Process> agents = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stopAgents() throws InterruptedException {
        for (Process agent : agents) {
            agent.destroyForcibly();
            agent.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private Process agent(String node, Path tls, int dataPort, int adminPort, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "agent",
                "--node",
                node,
                "--tasks",
                dir.resolve("tasks-" + node).toString(),
                "--state-dir",
                dir.resolve("state-" + node).toString(),
                "--allowed-root",
                dir.resolve("data").toString(),
                "--bind-address",
                "127.0.0.1",
                "--data-port",
                Integer.toString(dataPort),
                "--admin-port",
                Integer.toString(adminPort)));
        if (tls != null) args.addAll(List.of("--tls-dir", tls.toString()));
        args.addAll(List.of(extra));
        Process process = new ProcessBuilder(Commands.sidecarCommand(List.of(), args.toArray(String[]::new)))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent-" + node + "-" + agents.size() + ".log")
                        .toFile())
                .start();
        agents.add(process);
        return process;
    }

    private String get(int port, String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) return response.body();
            } catch (IOException notYet) {
                // the agent is still starting
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no answer on :" + port + path);
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private TaskStatus await(Path tasks, String name, Predicate<TaskStatus> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Optional<TaskStatus> last = Optional.empty();
        while (System.nanoTime() < deadline) {
            try {
                last = TaskFiles.readStatus(TaskFiles.statusFileOf(tasks, name));
            } catch (IOException replacedWhileRead) {
                continue;
            }
            if (last.isPresent() && condition.test(last.get())) return last.get();
            TimeUnit.MILLISECONDS.sleep(50);
        }
        throw new AssertionError("task " + name + " never reached the expected status; last: " + last);
    }

    @Test
    void theTargetAgentPullsOverMutualTlsAndFinishesAfterBeingKilled() throws Exception {
        NodeIdentities identities = new NodeIdentities(dir.resolve("pki"));
        Path data = Files.createDirectory(dir.resolve("data"));
        Path source = Images.sparse(data.resolve("source.img"), 96 * MiB, 0, 24 * MiB, 64 * MiB, 8 * MiB);
        Path target = data.resolve("copy.img");
        for (String node : List.of("node-a", "node-b")) Files.createDirectories(dir.resolve("tasks-" + node));
        int sourceData = freePort();
        int sourceAdmin = freePort();
        int targetAdmin = freePort();
        agent("node-a", identities.node("node-a"), sourceData, sourceAdmin, "--max-rate", "16M");
        agent("node-b", identities.node("node-b"), freePort(), targetAdmin);
        get(sourceAdmin, "/readyz");
        get(targetAdmin, "/readyz");
        String task = Tasks.hostPathTask("pull", "node-a", source, "node-b", target, "")
                .replace("    node: node-a\n", "    node: node-a\n    address: 127.0.0.1:" + sourceData + "\n");
        for (String node : List.of("node-a", "node-b")) Tasks.write(dir.resolve("tasks-" + node), "pull", task);

        Path targetTasks = dir.resolve("tasks-node-b");
        await(targetTasks, "pull", status -> status.phase() == Phase.Running && status.bytesDone() > 8 * MiB);
        Process killed = agents.get(1);
        killed.destroyForcibly(); // kill -9 of the target agent mid-copy
        assertEquals(137, killed.waitFor());
        assertTrue(!Files.exists(target), "a killed copy never has the final name");
        agent("node-b", identities.node("node-b"), freePort(), targetAdmin);

        TaskStatus done = await(targetTasks, "pull", status -> status.phase().terminal());
        assertEquals(Phase.Succeeded, done.phase(), () -> "message: " + done.message());
        assertEquals(2, done.attempt(), "the restarted agent counted on from its state directory");
        assertTrue(Commands.sameBytes(source, target, 96 * MiB));
        assertEquals(0, Commands.qemuCompare(source, target).exitCode());
        assertTrue(done.digest() != null && !done.digest().isEmpty(), "verified by both agents");
        String sourceMetrics = get(sourceAdmin, "/metrics");
        assertTrue(
                sourceMetrics.contains("lockkeeper_agent_bytes_total{kind=\"data\",role=\"source\"}"), sourceMetrics);
        assertTrue(
                !Files.exists(TaskFiles.statusFileOf(dir.resolve("tasks-node-a"), "pull")),
                "only the target agent writes status");
    }

    /**
     * A copy within one node, killed with SIGKILL after a few checkpoints: the restarted agent continues from the last
     * one. While it is down, nothing looks complete: the file target has only its partial name, the device target's
     * header window is still zero.
     */
    @ParameterizedTest(name = "{0} target")
    @ValueSource(strings = {"file", "device"})
    void aLocalCopyKilledMidwayContinuesFromItsCheckpoint(String targetKind) throws Exception {
        boolean device = targetKind.equals("device");
        if (device) assumeTrue(Commands.isRoot(), "the device target is a loop device, which needs root");
        Path data = Files.createDirectory(dir.resolve("data"));
        Files.createDirectories(dir.resolve("tasks-node-a"));
        long size = 64 * MiB;
        Path source =
                Images.sparse(data.resolve("source.img"), size, 0, 8 * MiB, 16 * MiB, 24 * MiB, 56 * MiB, 8 * MiB);
        try (LoopDevice loop =
                device ? LoopDevice.create(dir.resolve("backing.img"), size).filledWithOldData() : null) {
            Path target = device ? mknodLike(loop.path(), data.resolve("target-dev")) : data.resolve("copy.img");
            int admin = freePort();
            agent("node-a", null, 0, admin, "--max-rate", "16M", "--checkpoint-bytes", "4M");
            Tasks.write(
                    dir.resolve("tasks-node-a"),
                    "local",
                    Tasks.hostPathTask("local", "node-a", source, "node-a", target, ""));
            Path tasks = dir.resolve("tasks-node-a");
            TaskStatus before = await(
                    tasks,
                    "local",
                    status -> status.phase() == Phase.Running
                            && status.checkpointOffset() != null
                            && status.checkpointOffset() >= 16 * MiB);
            Process killed = agents.getFirst();
            killed.destroyForcibly();
            assertEquals(137, killed.waitFor());
            if (device) {
                assertTrue(
                        Commands.sameBytes(target, Path.of("/dev/zero"), VolumeCopier.DEVICE_HEADER_WINDOW),
                        "the header window stays zero until the rest is durable");
            } else {
                assertFalse(Files.exists(target), "a killed copy never has the final name");
                assertTrue(
                        Files.exists(ImageStreamTarget.partialNameFor(target)),
                        "its partial file is kept to be continued");
            }

            agent("node-a", null, 0, admin, "--checkpoint-bytes", "4M");
            TaskStatus done = await(tasks, "local", status -> status.phase().terminal());
            assertEquals(Phase.Succeeded, done.phase(), () -> "message: " + done.message());
            assertEquals(2, done.attempt());
            assertTrue(
                    done.resumedFrom() >= before.checkpointOffset() && done.resumedFrom() < size,
                    () -> "resumed from " + done.resumedFrom() + ", checkpoint before the kill "
                            + before.checkpointOffset());
            assertTrue(
                    done.dataBytes() < 40 * MiB,
                    () -> "the second attempt wrote " + done.dataBytes() + " bytes of data again");
            assertTrue(Commands.sameBytes(source, target, size));
            assertEquals(0, Commands.qemuCompare(source, target).exitCode());
            Allocation.assertSame(source, device ? loop.backingFile() : target); // holes stay holes across the restart
            String metrics = get(admin, "/metrics");
            assertTrue(metrics.contains("lockkeeper_agent_resumes_total 1.0"), metrics);
            assertFalse(Files.exists(dir.resolve("state-node-a/local.json")), "a finished task leaves no state behind");
        }
    }

    /** A block device node for {@code device} at {@code node}, where an allowed root lets a task name it. */
    private static Path mknodLike(Path device, Path node) {
        String[] majorMinor = Commands.ok("stat", "-L", "-c", "%t %T", device.toString())
                .trim()
                .split(" ");
        Commands.ok(
                "mknod",
                node.toString(),
                "b",
                Integer.toString(Integer.parseInt(majorMinor[0], 16)),
                Integer.toString(Integer.parseInt(majorMinor[1], 16)));
        return node;
    }

    /**
     * Identities between real agents: a target agent whose certificate comes from another CA, a node that names itself
     * the target of a task the source agent holds for another node, and a data port that presents another node's
     * certificate than the task's source. Each fails the task at once, with the reason, and nothing is written.
     */
    @Test
    void pullsWithTheWrongIdentitiesAreRefused() throws Exception {
        NodeIdentities identities = new NodeIdentities(dir.resolve("pki"));
        Path data = Files.createDirectory(dir.resolve("data"));
        Path source = Images.sparse(data.resolve("source.img"), 4 * MiB, 0, 4 * MiB);
        for (String node : List.of("node-a", "node-b", "node-c")) Files.createDirectories(dir.resolve("tasks-" + node));
        int sourceData = freePort();
        int sourceAdmin = freePort();
        int foreignAdmin = freePort();
        int thiefData = freePort();
        int thiefAdmin = freePort();
        agent("node-a", identities.node("node-a"), sourceData, sourceAdmin);
        agent("node-b", identities.foreignNode("node-b"), freePort(), foreignAdmin);
        agent("node-c", identities.node("node-c"), thiefData, thiefAdmin);
        for (int admin : List.of(sourceAdmin, foreignAdmin, thiefAdmin)) get(admin, "/readyz");
        String address = "    node: node-a\n    address: 127.0.0.1:" + sourceData + "\n";

        String foreign = Tasks.hostPathTask("foreign", "node-a", source, "node-b", data.resolve("foreign.img"), "")
                .replace("    node: node-a\n", address);
        Tasks.write(dir.resolve("tasks-node-a"), "foreign", foreign);
        Tasks.write(dir.resolve("tasks-node-b"), "foreign", foreign);
        // node-a holds the task for node-b; node-c is handed a copy that names itself the target
        String forB = Tasks.hostPathTask("steal", "node-a", source, "node-b", data.resolve("stolen.img"), "");
        Tasks.write(dir.resolve("tasks-node-a"), "steal", forB.replace("    node: node-a\n", address));
        Tasks.write(
                dir.resolve("tasks-node-c"),
                "steal",
                forB.replace("    node: node-b\n", "    node: node-c\n").replace("    node: node-a\n", address));
        // the task says node-a is the source, but the address is node-c's own data port
        Tasks.write(
                dir.resolve("tasks-node-c"),
                "misdirected",
                Tasks.hostPathTask("misdirected", "node-a", source, "node-c", data.resolve("misdirected.img"), "")
                        .replace("    node: node-a\n", "    node: node-a\n    address: 127.0.0.1:" + thiefData + "\n"));

        TaskStatus untrusted = await(
                dir.resolve("tasks-node-b"), "foreign", status -> status.phase().terminal());
        assertEquals(Phase.Failed, untrusted.phase());
        assertTrue(
                untrusted.message().contains("the peers do not trust each other's node certificates"),
                untrusted.message());
        TaskStatus stolen = await(
                dir.resolve("tasks-node-c"), "steal", status -> status.phase().terminal());
        assertEquals(Phase.Failed, stolen.phase());
        assertTrue(
                stolen.message().endsWith("task steal copies to node node-b; node node-c may not read its source"),
                stolen.message());
        TaskStatus misdirected = await(
                dir.resolve("tasks-node-c"),
                "misdirected",
                status -> status.phase().terminal());
        assertEquals(Phase.Failed, misdirected.phase());
        assertEquals(
                "the data port at 127.0.0.1:" + thiefData
                        + " presents a certificate for node node-c, not for the task's "
                        + "source node node-a; refusing to pull from it",
                misdirected.message().replace("/127.0.0.1", "127.0.0.1"));
        try (var left = Files.list(data)) {
            assertEquals(List.of(source), left.toList(), "nothing was written for any of them");
        }
        assertTrue(
                get(sourceAdmin, "/metrics")
                        .contains("lockkeeper_agent_bytes_total{kind=\"data\",role=\"source\"} 0.0"),
                "not a byte left the source agent");
    }

    @Test
    void anAgentWithAnotherNodesCertificateDoesNotStart() throws Exception {
        NodeIdentities identities = new NodeIdentities(dir.resolve("pki"));
        Files.createDirectories(dir.resolve("tasks-node-a"));
        Files.createDirectories(dir.resolve("data"));
        Process agent = agent("node-a", identities.node("node-z"), freePort(), freePort());
        assertEquals(1, agent.waitFor());
        String log = Files.readString(dir.resolve("agent-node-a-0.log"));
        assertTrue(log.contains("names node node-z, not this agent's node node-a"), log);
    }
}
