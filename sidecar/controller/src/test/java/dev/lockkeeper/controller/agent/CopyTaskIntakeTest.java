package dev.lockkeeper.controller.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.cli.Main;
import dev.lockkeeper.controller.plan.Names;
import dev.lockkeeper.controller.shell.Resources;
import dev.lockkeeper.controller.testing.MockCluster;
import dev.lockkeeper.sidecar.agent.CopyTask;
import dev.lockkeeper.sidecar.agent.TaskIntake;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's CopyTask intake against fabric8's mock API server, and a real agent process taking its work from it. */
class CopyTaskIntakeTest {
    private static final String NAMESPACE = "lockkeeper";

    @TempDir
    Path dir;

    private KubernetesMockServer server;
    private KubernetesClient client;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void startServer() {
        server = MockCluster.startCrud();
        client = server.createClient();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable resource : closing.reversed()) resource.close();
        client.close();
        MockCluster.destroy(server);
    }

    /** What the intake told the agent, in order. */
    static final class Recording implements TaskIntake.Listener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void changed(CopyTask task) {
            events.add("changed " + task.name() + (task.cancel() ? " cancel" : ""));
        }

        @Override
        public void rejected(String name, String reason) {
            events.add("rejected " + name + ": " + reason);
        }

        @Override
        public void removed(String name) {
            events.add("removed " + name);
        }
    }

    @Test
    void deliversTheTasksNamingThisNodeOnceEachAndRejectsWhatTheAgentCannotRun() throws Exception {
        create(task("present", "node-b", "node-a", Map.of()));
        create(task("elsewhere", "node-b", "node-c", Map.of()));
        Recording agent = new Recording();
        CopyTaskIntake intake = intake("node-a");
        intake.start(agent);
        assertEquals(List.of("changed present"), agent.events, "start returns once the tasks present are delivered");

        create(task("local", "node-a", "node-a", Map.of()));
        create(task("hostile", "node-b", "node-a", Map.of("unexpected", true)));
        awaitEvents(agent, 4);
        // the two informers' streams interleave in any order, so the events are compared as a sorted list
        assertEquals(
                List.of(
                        "changed local",
                        "changed local",
                        "changed present",
                        "rejected hostile: spec has an unknown field 'unexpected'"),
                new ArrayList<>(agent.events).stream().sorted().toList(),
                "a same-node task comes from both informers; the hostile one gets the task parser's words");

        setCancel("present");
        awaitEvents(agent, 5);
        assertEquals("changed present cancel", agent.events.get(4));

        client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(NAMESPACE)
                .withName("present")
                .delete();
        awaitEvents(agent, 6);
        assertEquals("removed present", agent.events.get(5));
    }

    @Test
    void statusGoesToTheStatusSubresourceAndComesBackAfterARestart() throws Exception {
        create(task("t1", "node-b", "node-a", Map.of()));
        Recording agent = new Recording();
        CopyTaskIntake intake = intake("node-a");
        intake.start(agent);
        TaskStatus running = TaskStatus.queued("node-a", 1).running(1, 0).withProgress(5, 10, 5, 0);
        intake.publish("t1", running);
        JsonNode stored = Json.tree(copyTask("t1").getAdditionalProperties().get("status"));
        assertEquals("Running", stored.path("phase").asText());
        assertEquals("50.00%", stored.path("progress").asText());
        assertEquals(10, stored.path("bytesTotal").asLong());
        awaitEvents(agent, 1);
        Thread.sleep(200);
        assertEquals(List.of("changed t1"), agent.events, "our own status write is no news to the agent");

        CopyTaskIntake restarted = intake("node-a");
        restarted.start(new Recording());
        assertEquals(
                running.bytesDone(),
                restarted.lastStatus("t1").orElseThrow().bytesDone(),
                "a restarted agent continues from the status it wrote");
        intake.publish("gone", running); // a task deleted meanwhile is not an error
    }

    /** The DaemonSet's command: {@code lockkeeper-controller agent}, a real process, its work from a CopyTask. */
    @Test
    void anAgentProcessCopiesWhatACopyTaskAsksAndReportsItInTheStatus() throws Exception {
        Path data = Files.createDirectory(dir.resolve("data"));
        byte[] content = new byte[3 << 20];
        new Random(7).nextBytes(content);
        Path source = Files.write(data.resolve("source.img"), content);
        Path target = data.resolve("copy.img");
        create(task("copy-1", "node-a", "node-a", Map.of(), source, target));

        Process agent = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx96m",
                        "-Dkubernetes.master=" + client.getMasterUrl(),
                        "-Dkubernetes.trust.certificates=true",
                        "-Dkubernetes.auth.tryKubeConfig=false",
                        "-Dkubernetes.auth.tryServiceAccount=false",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "agent",
                        "--namespace",
                        NAMESPACE,
                        "--node",
                        "node-a",
                        "--allowed-root",
                        data.toString(),
                        "--state-dir",
                        dir.resolve("state").toString(),
                        "--bind-address",
                        "127.0.0.1",
                        "--data-port",
                        "0",
                        "--admin-port",
                        "0"))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.log").toFile())
                .start();
        closing.add(() -> {
            agent.destroyForcibly();
            agent.waitFor(10, TimeUnit.SECONDS);
        });

        JsonNode status = await(
                () -> Json.tree(copyTask("copy-1").getAdditionalProperties().get("status")),
                s -> Phase.Succeeded.name().equals(s.path("phase").asText())
                        || Phase.Failed.name().equals(s.path("phase").asText()),
                agent);
        assertEquals("Succeeded", status.path("phase").asText(), status::toString);
        assertEquals("100.00%", status.path("progress").asText());
        assertEquals(content.length, status.path("bytesTotal").asLong());
        assertNotNull(status.get("digest"), "a verified copy reports its digest");
        assertArrayEquals(content, Files.readAllBytes(target));
    }

    @Test
    void aTaskDirectoryIsRefusedWhereTasksComeFromTheCluster() {
        var err = new java.io.ByteArrayOutputStream();
        int exit = dev.lockkeeper.sidecar.agent.AgentCommand.run(
                new String[] {"--node", "node-a", "--tasks", dir.toString()},
                System.out,
                new java.io.PrintStream(err),
                settings -> intake(settings.node()));
        assertEquals(2, exit);
        assertTrue(
                err.toString().contains("--tasks is not used here: this agent takes its tasks from CopyTask resources"),
                err::toString);
    }

    private CopyTaskIntake intake(String node) {
        CopyTaskIntake intake = new CopyTaskIntake(client, NAMESPACE, node);
        closing.add(intake);
        return intake;
    }

    private JsonNode await(Supplier<JsonNode> read, java.util.function.Predicate<JsonNode> done, Process agent)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            JsonNode value = read.get();
            if (done.test(value)) return value;
            if (!agent.isAlive())
                throw new AssertionError(
                        "the agent exited " + agent.exitValue() + ": " + Files.readString(dir.resolve("agent.log")));
            if (System.nanoTime() > deadline)
                throw new AssertionError(
                        "status now " + value + "; agent log: " + Files.readString(dir.resolve("agent.log")));
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    private static void awaitEvents(Recording agent, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (agent.events.size() < count) {
            if (System.nanoTime() > deadline) throw new AssertionError("only " + agent.events);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private GenericKubernetesResource copyTask(String name) {
        return client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(NAMESPACE)
                .withName(name)
                .get();
    }

    private void create(GenericKubernetesResource task) {
        client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(NAMESPACE)
                .resource(task)
                .create();
    }

    private void setCancel(String name) {
        GenericKubernetesResource task = copyTask(name);
        @SuppressWarnings("unchecked")
        Map<String, Object> spec =
                (Map<String, Object>) task.getAdditionalProperties().get("spec");
        spec.put("cancel", true);
        client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(NAMESPACE)
                .resource(task)
                .update();
    }

    private GenericKubernetesResource task(
            String name, String sourceNode, String targetNode, Map<String, Object> extraSpec) {
        return task(name, sourceNode, targetNode, extraSpec, dir.resolve("in.img"), dir.resolve("out.img"));
    }

    private static GenericKubernetesResource task(
            String name,
            String sourceNode,
            String targetNode,
            Map<String, Object> extraSpec,
            Path source,
            Path target) {
        Map<String, Object> spec = new java.util.LinkedHashMap<>(Map.of(
                "source", Map.of("node", sourceNode, "path", source.toString()),
                "target", Map.of("node", targetNode, "path", target.toString())));
        spec.putAll(extraSpec);
        return Json.MAPPER.convertValue(
                Map.of(
                        "apiVersion",
                        Keys.GROUP + "/" + Keys.VERSION,
                        "kind",
                        "CopyTask",
                        "metadata",
                        Map.of(
                                "name",
                                name,
                                "namespace",
                                NAMESPACE,
                                "labels",
                                Map.of(
                                        Keys.SOURCE_NODE,
                                        Names.nodeLabel(sourceNode),
                                        Keys.TARGET_NODE,
                                        Names.nodeLabel(targetNode))),
                        "spec",
                        spec),
                GenericKubernetesResource.class);
    }
}
