package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.NetworkNamespaces;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents as two "nodes": each JVM in its own network namespace, joined by one veth pair (198.18.30.0/30, RFC 2544
 * test addresses, only on the veths this test makes; the namespaces and with them the pair are deleted in teardown).
 * Work arrives as task files, as a person without a cluster would write them; the file system is shared, the network
 * is not.
 */
class AgentNetnsTest {
    private static final long MiB = 1 << 20;
    private static final String SOURCE_NS = NetworkNamespaces.name("lk-ag-src");
    private static final String TARGET_NS = NetworkNamespaces.name("lk-ag-dst");
    private static final String SOURCE_LINK = "lk-agv-src";
    private static final String TARGET_LINK = "lk-agv-dst";
    private static final String SOURCE_ADDRESS = "198.18.30.1";
    private static final String TARGET_ADDRESS = "198.18.30.2";
    private static final int DATA_PORT = 8444;

    @TempDir
    Path dir;

    private NodeIdentities identities;
    private final List<Process> agents = new ArrayList<>();
    private final List<LoopDevice> devices = new ArrayList<>();

    @BeforeAll
    static void needsNamespaces() {
        assumeTrue(Commands.isRoot(), "network namespaces and loop devices need root");
        assumeTrue(Commands.available("ip"), "network namespaces need iproute2's ip");
    }

    @BeforeEach
    void namespaces() throws IOException {
        deleteNamespaces();
        Commands.ok("ip", "netns", "add", SOURCE_NS);
        Commands.ok("ip", "netns", "add", TARGET_NS);
        Commands.ok(
                "ip",
                "-n",
                SOURCE_NS,
                "link",
                "add",
                SOURCE_LINK,
                "type",
                "veth",
                "peer",
                "name",
                TARGET_LINK,
                "netns",
                TARGET_NS);
        Commands.ok("ip", "-n", SOURCE_NS, "addr", "add", SOURCE_ADDRESS + "/30", "dev", SOURCE_LINK);
        Commands.ok("ip", "-n", TARGET_NS, "addr", "add", TARGET_ADDRESS + "/30", "dev", TARGET_LINK);
        Commands.ok("ip", "-n", SOURCE_NS, "link", "set", SOURCE_LINK, "up");
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "up");
        identities = new NodeIdentities(dir.resolve("pki"));
        Files.createDirectories(dir.resolve("data"));
    }

    @AfterEach
    void teardown() throws InterruptedException {
        for (Process agent : agents) {
            agent.destroyForcibly();
            agent.waitFor(30, TimeUnit.SECONDS);
        }
        for (LoopDevice device : devices) device.close();
        deleteNamespaces();
    }

    /** Deleting a namespace deletes the veth end inside it, and with it the pair. */
    private static void deleteNamespaces() {
        Commands.run("ip", "netns", "del", SOURCE_NS);
        Commands.run("ip", "netns", "del", TARGET_NS);
    }

    private void agent(String namespace, String node, String address, String... extra) throws Exception {
        Path tasks = Files.createDirectories(dir.resolve("tasks-" + node));
        List<String> args = new ArrayList<>(List.of(
                "agent",
                "--node",
                node,
                "--tasks",
                tasks.toString(),
                "--state-dir",
                dir.resolve("state-" + node).toString(),
                "--allowed-root",
                dir.resolve("data").toString(),
                "--tls-dir",
                identities.node(node).toString(),
                "--bind-address",
                address,
                "--data-port",
                Integer.toString(DATA_PORT),
                "--admin-port",
                "8445",
                "--peer",
                "node-a=" + SOURCE_ADDRESS + ":" + DATA_PORT));
        args.addAll(List.of(extra));
        Path log = dir.resolve("agent-" + node + "-" + agents.size() + ".log");
        agents.add(new ProcessBuilder(
                        Commands.sidecarCommand(List.of("ip", "netns", "exec", namespace), args.toArray(String[]::new)))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("data port " + DATA_PORT)) {
            assertTrue(
                    System.nanoTime() < deadline && agents.getLast().isAlive(),
                    () -> "agent " + node + " did not start: " + read(log));
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** Both agents hold the task, as both nodes' informers would. */
    private void task(String name, Path source, Path target) throws IOException {
        String task = Tasks.hostPathTask(name, "node-a", source, "node-b", target, "");
        Tasks.write(dir.resolve("tasks-node-a"), name, task);
        Tasks.write(dir.resolve("tasks-node-b"), name, task);
    }

    private TaskStatus await(String name, Predicate<TaskStatus> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Optional<TaskStatus> last = Optional.empty();
        while (System.nanoTime() < deadline) {
            try {
                last = TaskFiles.readStatus(TaskFiles.statusFileOf(dir.resolve("tasks-node-b"), name));
            } catch (IOException replacedWhileRead) {
                continue;
            }
            if (last.isPresent() && condition.test(last.get())) return last.get();
            TimeUnit.MILLISECONDS.sleep(50);
        }
        throw new AssertionError("task " + name + " never reached the expected status; last: " + last);
    }

    /** A block device node for a new loop device over {@code backing}, where an allowed root lets a task name it. */
    private Path device(Path backing, long size, Path node) throws IOException {
        LoopDevice loop = LoopDevice.create(backing, size);
        devices.add(loop);
        String[] majorMinor = Commands.ok(
                        "stat", "-L", "-c", "%t %T", loop.path().toString())
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

    @Test
    void aFileImageAndABlockVolumeCrossBetweenTheNamespacesAtOnce() throws Exception {
        Path data = dir.resolve("data");
        Path image =
                Images.sparse(data.resolve("source.img"), 40 * MiB, 0, 300 << 10, 3 * MiB, 13 * MiB, 36 * MiB, 4 * MiB);
        // the block source holds the same sparse image; the block target holds old data its holes must not show
        Path blockImage = Images.sparse(
                dir.resolve("block-source.backing"), 32 * MiB, 0, 2 * MiB, 10 * MiB, 8 * MiB, 30 * MiB, 2 * MiB);
        Path blockSource = device(blockImage, 32 * MiB, data.resolve("source-dev"));
        Path blockTarget = device(dir.resolve("block-target.backing"), 32 * MiB, data.resolve("target-dev"));
        Images.writeRandom(blockTarget, 0, 32 * MiB, 99);
        agent(SOURCE_NS, "node-a", SOURCE_ADDRESS);
        agent(TARGET_NS, "node-b", TARGET_ADDRESS);
        task("file", image, data.resolve("copy.img"));
        task("block", blockSource, blockTarget);

        for (String name : List.of("file", "block")) {
            TaskStatus done = await(name, status -> status.phase().terminal());
            assertEquals(Phase.Succeeded, done.phase(), () -> name + ": " + done.message());
            assertTrue(done.digest() != null, "verified on both nodes");
        }
        assertTrue(Commands.sameBytes(image, data.resolve("copy.img"), 40 * MiB));
        assertEquals(0, Commands.qemuCompare(image, data.resolve("copy.img")).exitCode());
        Allocation.assertSame(image, data.resolve("copy.img"));
        assertTrue(Commands.sameBytes(blockSource, blockTarget, 32 * MiB), "the old data is gone from the holes too");
        assertEquals(0, Commands.qemuCompare(blockImage, blockTarget).exitCode());
        Allocation.assertSame(
                blockImage, dir.resolve("block-target.backing")); // the device's holes given back, not written as zeros
    }

    @Test
    void aLinkDownForTenSecondsIsRiddenOutAndTheCopyResumes() throws Exception {
        Path data = dir.resolve("data");
        long size = 48 * MiB;
        Path image = Images.sparse(data.resolve("source.img"), size, 0, 40 * MiB);
        agent(SOURCE_NS, "node-a", SOURCE_ADDRESS, "--max-rate", "8M", "--stall-timeout", "6s");
        agent(TARGET_NS, "node-b", TARGET_ADDRESS, "--checkpoint-bytes", "4M", "--stall-timeout", "6s");
        task("cut", image, data.resolve("copy.img"));
        await("cut", status -> status.phase() == Phase.Running && status.bytesDone() >= 12 * MiB);
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "down");
        TimeUnit.SECONDS.sleep(10);
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "up");

        TaskStatus done = await("cut", status -> status.phase().terminal());
        assertEquals(Phase.Succeeded, done.phase(), done::message);
        assertTrue(done.attempt() >= 2, "the stalled attempt ended and another one ran: attempt " + done.attempt());
        assertTrue(done.resumedFrom() >= 8 * MiB, () -> "resumed from " + done.resumedFrom());
        assertTrue(
                done.dataBytes() < 40 * MiB,
                () -> "the resumed attempt received " + done.dataBytes() + " bytes of data");
        assertTrue(Commands.sameBytes(image, data.resolve("copy.img"), size));
        assertEquals(0, Commands.qemuCompare(image, data.resolve("copy.img")).exitCode());
    }
}
