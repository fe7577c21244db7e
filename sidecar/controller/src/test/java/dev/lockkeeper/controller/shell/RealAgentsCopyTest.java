package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.TokenKeyFiles;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.cli.ControllerCommand;
import dev.lockkeeper.controller.cli.Main;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.testing.Await;
import dev.lockkeeper.controller.testing.MockCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain with real agents and real volumes: the controller against fabric8's mock API server, the
 * {@link Simulators} as the cluster's other components (their agent simulator off), a {@link KubeletSimulator} that
 * gives every PV a loop device (ext4 for filesystem volumes) and mounts pods' volumes under each node's kubelet root,
 * and two real agent processes ({@code lockkeeper-controller agent}), node-a on 127.0.0.2 and node-b on 127.0.0.3, each
 * with a node certificate from one test agent CA. Every test checks the bytes in the target PV's storage, the target
 * PVC's annotations and Events, the VolumeCopy's status, and that nothing the copy made is left.
 */
class RealAgentsCopyTest {
    static final String INSTALLATION = "lockkeeper";
    static final Map<String, String> NODE_ADDRESSES = Map.of("node-a", "127.0.0.2", "node-b", "127.0.0.3");

    @TempDir
    static Path dir;

    static KubernetesMockServer server;
    static KubernetesClient client;
    static Simulators simulators;
    static KubeletSimulator kubelet;
    static KeyPair webhookKeys;
    static CopyController controller;
    static int dataPort;
    static final Map<String, Process> agents = new LinkedHashMap<>();
    /** Each agent's current log (a restarted agent writes a new one). */
    static final Map<String, Path> logs = new LinkedHashMap<>();

    @BeforeAll
    static void cluster() throws Exception {
        assumeTrue(
                "0".equals(KubeletSimulator.run("id", "-u").trim()), "loop devices, mounts and device nodes need root");
        server = MockCluster.startCrud();
        client = server.createClient();
        MockCluster.installCopyBasics(client);
        // the agents' JVMs start while the rest of the cluster is set up
        kubelet = new KubeletSimulator(client, dir, List.copyOf(new java.util.TreeSet<>(NODE_ADDRESSES.keySet())));
        CertificateAuthority agentCa =
                NodeCertificates.agentAuthority(dir.resolve("agent-ca"), Duration.ofDays(1), Clock.systemUTC());
        dataPort = freePortOnEveryNode();
        for (String node : NODE_ADDRESSES.keySet()) {
            NodeCertificates.ensure(dir.resolve(node).resolve("tls"), agentCa, node, Clock.systemUTC());
            launchAgent(node);
        }
        simulators = new Simulators(client);
        simulators.simulateAgents = false;
        simulators.kubelet = kubelet;
        for (String node : NODE_ADDRESSES.keySet()) {
            AgentPods.create(client, INSTALLATION, node, NODE_ADDRESSES.get(node));
            awaitListening(node);
        }
        Path keyFile = dir.resolve("token.key");
        webhookKeys = TokenKeyFiles.loadOrGenerate(keyFile);
        startController();
    }

    /** The controller as its Deployment runs it: the agents' data port, the webhook's token key. */
    static void startController() throws IOException {
        controller = new CopyController(
                client,
                Settings.DEFAULT.withAgentDataPort(dataPort),
                ControllerCommand.tokenCheck(TokenKeyFiles.publicKeyFile(dir.resolve("token.key"))),
                Clock.systemUTC(),
                Duration.ofSeconds(2));
        controller.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (controller != null) controller.close();
        agents.values().forEach(Process::destroy);
        for (Process agent : agents.values()) {
            if (!agent.waitFor(10, TimeUnit.SECONDS)) agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (simulators != null) simulators.close();
        if (kubelet != null) kubelet.close();
        if (client != null) client.close();
        if (server != null) MockCluster.destroy(server);
    }

    @AfterEach
    void noSimulatorFailed() {
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
    }

    /** One port free on both loopback addresses, so both agents listen on the one data port the controller knows. */
    static int freePortOnEveryNode() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            int port;
            try (var first = new ServerSocket()) {
                first.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                port = first.getLocalPort();
            }
            try (var second = new ServerSocket()) {
                second.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.3"), port));
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no port free on both 127.0.0.2 and 127.0.0.3");
    }

    /** {@code lockkeeper-controller agent}, the DaemonSet's command, for {@code node}; waits until it listens. */
    static void startAgent(String node) throws Exception {
        launchAgent(node);
        awaitListening(node);
    }

    static void launchAgent(String node) throws Exception {
        Path nodeDir = dir.resolve(node);
        Path log = nodeDir.resolve("agent-" + System.nanoTime() + ".log");
        Process agent = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx96m",
                        "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC",
                        "-Dkubernetes.master=" + client.getMasterUrl(),
                        "-Dkubernetes.trust.certificates=true",
                        "-Dkubernetes.auth.tryKubeConfig=false",
                        "-Dkubernetes.auth.tryServiceAccount=false",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "agent",
                        "--namespace",
                        INSTALLATION,
                        "--node",
                        node,
                        "--kubelet-root",
                        kubelet.root(node).toString(),
                        "--state-dir",
                        nodeDir.resolve("state").toString(),
                        "--tls-dir",
                        nodeDir.resolve("tls").toString(),
                        "--bind-address",
                        NODE_ADDRESSES.get(node),
                        "--data-port",
                        Integer.toString(dataPort),
                        "--admin-port",
                        "0",
                        // a checkpoint every MiB, so an agent killed mid-copy has settled some of it
                        "--checkpoint-bytes",
                        "1M"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        agents.put(node, agent);
        logs.put(node, log);
    }

    static void awaitListening(String node) {
        Process agent = agents.get(node);
        Path log = logs.get(node);
        await(() -> "agent " + node + " listening; log: " + read(log), () -> {
            if (!agent.isAlive()) fail("agent " + node + " exited " + agent.exitValue() + ": " + read(log));
            return read(log).contains("data port " + dataPort);
        });
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The agent's metrics, from the admin port its log names. */
    static String metrics(String node) throws Exception {
        Matcher port = Pattern.compile("admin port (\\d+)").matcher(read(logs.get(node)));
        assertTrue(port.find(), "the agent names its admin port");
        var response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(
                                        "http://" + NODE_ADDRESSES.get(node) + ":" + port.group(1) + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    static double metric(String metrics, String series) {
        return metrics.lines()
                .filter(l -> l.startsWith(series + " "))
                .mapToDouble(
                        l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .findFirst()
                .orElse(0);
    }

    // --- the user's objects, as the README's walk-through applies them

    static PersistentVolumeClaim createClaim(
            String namespace,
            String name,
            String storageClass,
            String size,
            String volumeMode,
            Map<String, String> annotations,
            String copyName) {
        var spec = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .withAnnotations(annotations)
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(storageClass)
                .withVolumeMode(volumeMode)
                .withNewResources()
                .addToRequests("storage", new Quantity(size))
                .endResources()
                .endSpec();
        if (copyName != null) {
            spec = spec.editSpec()
                    .withNewDataSourceRef()
                    .withApiGroup(Keys.GROUP)
                    .withKind("VolumeCopy")
                    .withName(copyName)
                    .endDataSourceRef()
                    .endSpec();
        }
        return client.resource(spec.build()).create();
    }

    static void createVolumeCopy(
            String namespace, String name, String sourceNamespace, String sourceName, Map<String, Object> spec) {
        var copy = new GenericKubernetesResource();
        copy.setApiVersion(Keys.API_VERSION);
        copy.setKind("VolumeCopy");
        Map<String, String> annotations = new LinkedHashMap<>();
        if (!namespace.equals(sourceNamespace)) {
            // what the volumecopy-clone-authorization webhook adds once the user may create PVCs from the source
            annotations.put(
                    Keys.CLONE_TOKEN,
                    new CloneTokenSigner(webhookKeys.getPrivate(), Clock.systemUTC())
                            .sign(CloneTokenClaims.clone(
                                    TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                    sourceNamespace,
                                    sourceName,
                                    namespace,
                                    name)));
        }
        copy.setMetadata(new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(namespace)
                .withAnnotations(annotations)
                .build());
        Map<String, Object> fullSpec = new LinkedHashMap<>(spec);
        fullSpec.put("source", Map.of("pvc", Map.of("namespace", sourceNamespace, "name", sourceName)));
        copy.setAdditionalProperty("spec", fullSpec);
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(namespace)
                .resource(copy)
                .create();
    }

    static PersistentVolumeClaim claim(String namespace, String name) {
        return client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName(name)
                .get();
    }

    static VolumeCopy volumeCopy(String namespace, String name) {
        return Json.volumeCopy(client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(namespace)
                .withName(name)
                .get());
    }

    static boolean bound(String namespace, String name) {
        var claim = claim(namespace, name);
        return claim != null
                && claim.getStatus() != null
                && "Bound".equals(claim.getStatus().getPhase());
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition);
    }

    static void await(Supplier<String> what, BooleanSupplier condition) {
        Await.until(Duration.ofSeconds(60), Duration.ofMillis(50), what, condition);
    }

    /** Waits for the copy into {@code namespace/name} to finish, and checks what CDI users read on the claim. */
    static PersistentVolumeClaim assertPopulated(
            String namespace, String name, String copyName, String sourceNamespace) {
        await(
                () -> "the copy into " + namespace + "/" + name + " succeeded; VolumeCopy status "
                        + volumeCopy(namespace, copyName).status() + "; agent logs: " + agentLogTails(),
                () -> {
                    var claim = claim(namespace, name);
                    return bound(namespace, name)
                            && claim.getMetadata().getAnnotations() != null
                            && "Succeeded"
                                    .equals(claim.getMetadata().getAnnotations().get(Keys.CLONE_PHASE))
                            && !claim.getMetadata().getFinalizers().contains(Keys.FINALIZER);
                });
        PersistentVolumeClaim claim = claim(namespace, name);
        Map<String, String> annotations = claim.getMetadata().getAnnotations();
        assertEquals("copy", annotations.get(Keys.CLONE_TYPE));
        assertEquals("true", annotations.get(Keys.CLONE_OF));
        assertEquals("100.00%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertFalse(annotations.containsKey(Keys.CLONE_ERROR));
        var pv = client.persistentVolumes()
                .withName(claim.getSpec().getVolumeName())
                .get();
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy(), "the reclaim policy is restored");
        assertEquals(
                namespace + "/" + copyName, pv.getMetadata().getAnnotations().get(Keys.POPULATED_FROM));
        VolumeCopy copy = volumeCopy(namespace, copyName);
        assertEquals("Succeeded", copy.status().phase());
        assertEquals("100.00%", copy.status().progress());
        assertEquals(name, copy.status().claimRef().name());
        assertNotNull(copy.status().digest(), "the agents verified the copy");
        await(
                () -> "CDI's events; now " + reasons(namespace),
                () -> reasons(namespace).containsAll(List.of("CloneScheduled", "CloneSucceeded", "CopyVerified")));
        Event succeeded = events(namespace).stream()
                .filter(e -> e.getReason().equals("CloneSucceeded"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                "Successfully cloned from " + sourceNamespace + "/" + copy.sourceName() + " into " + namespace + "/"
                        + name,
                succeeded.getMessage());
        Event verified = events(namespace).stream()
                .filter(e -> e.getReason().equals("CopyVerified"))
                .findFirst()
                .orElseThrow();
        assertEquals("content digest " + copy.status().digest() + " equal on source and target", verified.getMessage());
        assertNothingLeft(sourceNamespace, claim.getMetadata().getUid());
        return claim;
    }

    static List<Event> events(String namespace) {
        return client.v1().events().inNamespace(namespace).list().getItems();
    }

    static List<String> reasons(String namespace) {
        return events(namespace).stream().map(Event::getReason).sorted().toList();
    }

    /** No holder, prime or task is left, and the agents hold nothing open: kubelet could unmount every holder volume. */
    static void assertNothingLeft(String sourceNamespace, String targetUid) {
        await(
                () -> "holders, prime and task removed; left: " + left(sourceNamespace, targetUid),
                () -> left(sourceNamespace, targetUid).isEmpty());
    }

    static List<String> left(String sourceNamespace, String targetUid) {
        List<String> left = new ArrayList<>(Simulators.copyObjectsLeft(client, sourceNamespace, targetUid));
        left.addAll(kubelet.podsWithVolumes());
        left.addAll(kubelet.mountsUnderKubeletRoots());
        for (String node : NODE_ADDRESSES.keySet()) {
            // an agent forgets a task's attempts and checkpoint once the task ended or went
            Path state = dir.resolve(node).resolve("state").resolve(targetUid + ".json");
            if (Files.exists(state)) left.add("the task's state on " + node);
        }
        return left;
    }

    static String agentLogTails() {
        StringBuilder out = new StringBuilder();
        logs.forEach((node, log) -> {
            String text = read(log);
            out.append("\n--- ").append(node).append(": ").append(text.substring(Math.max(0, text.length() - 3000)));
        });
        return out.toString();
    }

    // --- the walk-through

    /**
     * The README's walk-through: a VolumeCopy in namespace "alice" clones the block disk "win11" of namespace
     * "golden-images" (authorized by the webhook's clone token) into a filesystem PVC whose consumer was scheduled to
     * node-b, while the source sits on node-a: the target agent pulls it from the source agent over mTLS, at the address
     * the controller wrote, and writes it as {@code disk.img}.
     */
    @Test
    void walkThroughClonesABlockDiskAcrossNamespacesAndNodesIntoDiskImg() throws Exception {
        String golden = "golden-images", alice = "alice";
        createClaim(golden, "win11", "fast", "32Mi", "Block", Map.of(), null);
        await("the source bound", () -> bound(golden, "win11"));
        Path sourceDevice = kubelet.device(claim(golden, "win11").getSpec().getVolumeName());
        byte[] disk = writeDisk(sourceDevice);

        createVolumeCopy(alice, "win11-copy", golden, "win11", Map.of());
        createClaim(
                alice,
                "disk0",
                "local",
                "64Mi",
                "Filesystem",
                // the scheduler picked node-b for the VM that will use the disk
                Map.of(Keys.SELECTED_NODE, "node-b"),
                "win11-copy");

        PersistentVolumeClaim target = assertPopulated(alice, "disk0", "win11-copy", golden);
        Path image = kubelet.filesystem(target.getSpec().getVolumeName()).resolve("disk.img");
        assertEquals(disk.length, Files.size(image), "disk.img has the source's size");
        assertArrayEquals(disk, Files.readAllBytes(image), "disk.img holds the source disk's bytes");

        VolumeCopy copy = volumeCopy(alice, "win11-copy");
        assertEquals(
                digest(disk), copy.status().digest(), "the digest the agents agreed on is that of the source disk");
        assertEquals(
                List.of("node-a", "node-b", false),
                List.of(
                        copy.status().transfer().sourceNode(),
                        copy.status().transfer().targetNode(),
                        copy.status().transfer().local()),
                "streamed from node-a to node-b");
        assertEquals(disk.length, copy.status().bytesTotal());
        var authorized = copy.status().condition("Authorized").orElseThrow();
        assertEquals("TokenVerified", authorized.reason());
        assertTrue(
                metric(metrics("node-b"), "lockkeeper_agent_bytes_total{kind=\"data\",role=\"target\"}") > 0,
                "the target agent counts the bytes it received");
        assertTrue(
                metric(metrics("node-a"), "lockkeeper_agent_bytes_total{kind=\"data\",role=\"source\"}") > 0,
                "the source agent counts the bytes it served");
    }

    /**
     * The target agent killed (SIGKILL) in the middle of a cross-node stream and started again: the new attempt
     * continues from the checkpoint the first one synced (resumed from more than nothing and less than everything), the
     * controller reports it (CopyResumed, the VolumeCopy's attempts and resumedFrom), and the disk arrives whole.
     */
    @Test
    void aTargetAgentKilledMidCopyResumesFromItsCheckpoint() throws Exception {
        String carol = "carol";
        createClaim(carol, "db", "fast", "16Mi", "Block", Map.of(), null);
        await("the source bound", () -> bound(carol, "db"));
        byte[] disk = new byte[16 << 20];
        new Random(13).nextBytes(disk);
        try (RandomAccessFile out = new RandomAccessFile(
                kubelet.device(claim(carol, "db").getSpec().getVolumeName()).toFile(), "rw")) {
            out.write(disk);
            out.getFD().sync();
        }
        // slow enough (2 MiB/s, 8 s) that the agent is killed with part of the disk settled
        createVolumeCopy(carol, "db-copy", carol, "db", Map.of("maxRate", "2M"));
        String uid = createClaim(
                        carol,
                        "db-restored",
                        "local",
                        "32Mi",
                        "Filesystem",
                        Map.of(Keys.SELECTED_NODE, "node-b"),
                        "db-copy")
                .getMetadata()
                .getUid();
        await(() -> "a third of the disk settled; task " + task(uid), () -> {
            var task = task(uid);
            return task != null && task.status() != null && task.status().bytesDone() >= disk.length / 3;
        });
        Process killed = agents.get("node-b");
        killed.destroyForcibly(); // SIGKILL: no shutdown hook, no last status
        assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
        startAgent("node-b");

        PersistentVolumeClaim target = assertPopulated(carol, "db-restored", "db-copy", carol);
        assertArrayEquals(
                disk,
                Files.readAllBytes(
                        kubelet.filesystem(target.getSpec().getVolumeName()).resolve("disk.img")));
        VolumeCopy copy = volumeCopy(carol, "db-copy");
        assertEquals(digest(disk), copy.status().digest());
        var transfer = copy.status().transfer();
        assertTrue(transfer.attempts() >= 2, () -> "a second attempt: " + transfer);
        assertTrue(
                transfer.resumedFromBytes() > 0 && transfer.resumedFromBytes() < disk.length,
                () -> "resumed from a checkpoint, not from the start: " + transfer);
        assertTrue(
                events(carol).stream()
                        .anyMatch(e -> e.getReason().equals("CopyResumed")
                                && e.getMessage().startsWith("resumed at ")),
                () -> "CopyResumed among " + reasons(carol));
    }

    // --- filesystem to block

    /**
     * A filesystem volume's {@code disk.img} (kubevirt content) on node-a copied into a larger block volume on node-b:
     * the image is streamed and written raw, so the device holds the image's bytes and zeros after them (the fresh
     * target reads as zeros; the engine leaves the rest of the device alone).
     */
    @Test
    void aFilesystemDiskImgIsWrittenRawOntoABlockTargetOnAnotherNode() throws Exception {
        String dave = "dave";
        createClaim(dave, "rootdisk", "fast", "32Mi", "Filesystem", Map.of(), null);
        await("the source bound", () -> bound(dave, "rootdisk"));
        Path image = kubelet.filesystem(claim(dave, "rootdisk").getSpec().getVolumeName())
                .resolve("disk.img");
        byte[] disk = writeSparse(image, 16 << 20);

        createVolumeCopy(dave, "rootdisk-copy", dave, "rootdisk", Map.of());
        createClaim(
                dave,
                "rootdisk-block",
                "local",
                "32Mi",
                "Block",
                Map.of(Keys.SELECTED_NODE, "node-b"),
                "rootdisk-copy");

        PersistentVolumeClaim target = assertPopulated(dave, "rootdisk-block", "rootdisk-copy", dave);
        Path device = kubelet.device(target.getSpec().getVolumeName());
        byte[] written;
        try (var in = Files.newInputStream(device)) {
            written = in.readAllBytes();
        }
        assertEquals(32 << 20, written.length, "the whole target device");
        assertArrayEquals(disk, java.util.Arrays.copyOf(written, disk.length), "the device starts with disk.img");
        assertEquals(
                -1,
                java.util.Arrays.mismatch(
                        new byte[written.length - disk.length],
                        java.util.Arrays.copyOfRange(written, disk.length, written.length)),
                "zeros after the image");
        // qemu-img's own reading: equal, the larger device's extra bytes being zero
        KubeletSimulator.run(
                "qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", image.toString(), device.toString());
        VolumeCopy copy = volumeCopy(dave, "rootdisk-copy");
        assertEquals(digest(disk), copy.status().digest(), "the digest is the image's");
        assertEquals(disk.length, copy.status().bytesTotal(), "the image's size, not the device's");
        assertEquals(
                List.of("node-a", "node-b", false),
                List.of(
                        copy.status().transfer().sourceNode(),
                        copy.status().transfer().targetNode(),
                        copy.status().transfer().local()));
    }

    // --- preallocation

    /**
     * Two copies of one sparse block disk (5 MiB of data in 16 MiB): with {@code preallocation: true} (streamed to
     * node-b) the target's {@code disk.img} has every block allocated and the claim says so with CDI's
     * {@code storage.preallocation} annotation; without it (a local copy on node-a) the image stays as sparse as the
     * source.
     */
    @Test
    void preallocationAllocatesAllOfDiskImgAndWithoutItTheSparseSourceStaysSparse() throws Exception {
        String erin = "erin", full = "erin-full", thin = "erin-thin";
        createClaim(erin, "data", "fast", "16Mi", "Block", Map.of(), null);
        await("the source bound", () -> bound(erin, "data"));
        String sourcePv = claim(erin, "data").getSpec().getVolumeName();
        byte[] disk = writeSparse(kubelet.device(sourcePv), 16 << 20);
        long sourceAllocated = allocatedBytes(kubelet.backingFile(sourcePv));
        assertTrue(sourceAllocated < 8 << 20, () -> "the source is sparse: " + sourceAllocated);

        createVolumeCopy(full, "data-copy", erin, "data", Map.of("preallocation", true));
        createClaim(full, "data", "local", "32Mi", "Filesystem", Map.of(Keys.SELECTED_NODE, "node-b"), "data-copy");
        createVolumeCopy(thin, "data-copy", erin, "data", Map.of());
        createClaim(thin, "data", "fast", "32Mi", "Filesystem", Map.of(), "data-copy");

        PersistentVolumeClaim preallocated = assertPopulated(full, "data", "data-copy", erin);
        Path fullImage =
                kubelet.filesystem(preallocated.getSpec().getVolumeName()).resolve("disk.img");
        assertArrayEquals(disk, Files.readAllBytes(fullImage));
        assertTrue(
                allocatedBytes(fullImage) >= disk.length,
                () -> "every byte of disk.img allocated: " + allocatedBytes(fullImage));
        assertEquals(
                "true",
                preallocated.getMetadata().getAnnotations().get(Keys.PREALLOCATION_APPLIED),
                "CDI's annotation");

        PersistentVolumeClaim sparse = assertPopulated(thin, "data", "data-copy", erin);
        Path thinImage = kubelet.filesystem(sparse.getSpec().getVolumeName()).resolve("disk.img");
        assertArrayEquals(disk, Files.readAllBytes(thinImage));
        long thinAllocated = allocatedBytes(thinImage);
        assertTrue(
                thinAllocated >= 5 << 20 && thinAllocated <= sourceAllocated + (1 << 20),
                () -> "as sparse as the source (" + sourceAllocated + " bytes allocated): " + thinAllocated);
        assertFalse(sparse.getMetadata().getAnnotations().containsKey(Keys.PREALLOCATION_APPLIED));
        assertEquals(
                List.of("node-a", "node-b", false, "node-a", "node-a", true),
                Stream.of(volumeCopy(full, "data-copy"), volumeCopy(thin, "data-copy"))
                        .map(c -> c.status().transfer())
                        .flatMap(t -> Stream.of(t.sourceNode(), t.targetNode(), t.local()))
                        .toList(),
                "the preallocated copy streamed, the sparse one local");
    }

    /** Bytes the filesystem allocated to {@code file} ({@code stat %b × %B}, what {@code du} counts). */
    static long allocatedBytes(Path file) {
        String[] blocks = KubeletSimulator.run("stat", "-c", "%b %B", file.toString())
                .trim()
                .split(" ");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }

    /**
     * Writes a sparse disk to a file or device: 4 MiB of data at the start and 1 MiB at 10 MiB, nothing else (a
     * device's backing file keeps the rest unallocated). Returns the bytes it reads as.
     */
    static byte[] writeSparse(Path fileOrDevice, int size) throws IOException {
        byte[] disk = new byte[size];
        Random random = new Random(17);
        byte[] head = new byte[4 << 20], middle = new byte[1 << 20];
        random.nextBytes(head);
        random.nextBytes(middle);
        System.arraycopy(head, 0, disk, 0, head.length);
        System.arraycopy(middle, 0, disk, 10 << 20, middle.length);
        try (RandomAccessFile out = new RandomAccessFile(fileOrDevice.toFile(), "rw")) {
            out.write(head);
            out.seek(10 << 20);
            out.write(middle);
            if (Files.isRegularFile(fileOrDevice)) out.setLength(size);
            out.getFD().sync();
        }
        return disk;
    }

    // --- cancel

    /**
     * A rate-limited copy (1 MiB/s of 16 MiB) cancelled once its first bytes arrived, first by deleting the
     * VolumeCopy, then (a second copy of the same source) by deleting the target claim: each time the target agent
     * ends the task Canceled, the controller removes holders, prime and task, the prime's volume and its storage go,
     * and the source is left bound, unchanged and free for the next copy.
     */
    @Test
    void cancellingMidCopyStopsTheAgentsAndLeavesTheSourceAsItWas() throws Exception {
        String frank = "frank";
        createClaim(frank, "vm", "fast", "16Mi", "Block", Map.of(), null);
        await("the source bound", () -> bound(frank, "vm"));
        Path sourceDevice = kubelet.device(claim(frank, "vm").getSpec().getVolumeName());
        byte[] disk = writeRandom(sourceDevice, 16 << 20, 19);

        createVolumeCopy(frank, "vm-copy", frank, "vm", Map.of("maxRate", "1M"));
        String uid = createClaim(
                        frank,
                        "vm-restored",
                        "local",
                        "32Mi",
                        "Filesystem",
                        Map.of(Keys.SELECTED_NODE, "node-b"),
                        "vm-copy")
                .getMetadata()
                .getUid();
        String primePv = awaitBytesArriving(uid);
        // what the cancel must take down exists: the target holder's mount, the prime's loop device, the agent's state
        assertFalse(kubelet.mountsUnderKubeletRoots().isEmpty(), "the prime is mounted on node-b");
        assertFalse(kubelet.loopDevicesOf(primePv).isEmpty(), "the prime has a loop device");
        assertTrue(
                Files.exists(dir.resolve("node-b").resolve("state").resolve(uid + ".json")),
                "the target agent keeps the task's attempts");
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(frank)
                .withName("vm-copy")
                .delete();
        assertCanceled(frank, uid, primePv);
        await(
                "the claim released",
                () -> !claim(frank, "vm-restored").getMetadata().getFinalizers().contains(Keys.FINALIZER));
        PersistentVolumeClaim released = claim(frank, "vm-restored");
        assertNull(released.getSpec().getVolumeName(), "no volume was handed to the claim");
        assertEquals("Pending", released.getMetadata().getAnnotations().get(Keys.CLONE_PHASE));
        await(
                () -> "the claim told its data source is gone; events " + reasons(frank),
                () -> events(frank).stream()
                        .anyMatch(e -> e.getReason().equals("PopulatorDataSourceNotFound")
                                && e.getInvolvedObject().getName().equals("vm-restored")
                                && e.getMessage().equals("Data source frank/vm-copy not found")));

        createVolumeCopy(frank, "vm-copy-2", frank, "vm", Map.of("maxRate", "1M"));
        String secondUid = createClaim(
                        frank,
                        "vm-restored-2",
                        "local",
                        "32Mi",
                        "Filesystem",
                        Map.of(Keys.SELECTED_NODE, "node-b"),
                        "vm-copy-2")
                .getMetadata()
                .getUid();
        String secondPrimePv = awaitBytesArriving(secondUid);
        client.persistentVolumeClaims()
                .inNamespace(frank)
                .withName("vm-restored-2")
                .delete();
        await("the target gone", () -> claim(frank, "vm-restored-2") == null);
        assertCanceled(frank, secondUid, secondPrimePv);
        assertNull(volumeCopy(frank, "vm-copy-2").status().digest(), "nothing was verified as copied");

        assertFalse(reasons(frank).contains("CloneSucceeded"), () -> "no copy succeeded: " + reasons(frank));
        assertTrue(bound(frank, "vm"), "the source is still bound");
        byte[] after;
        try (var in = Files.newInputStream(sourceDevice)) {
            after = in.readAllBytes();
        }
        assertArrayEquals(disk, after, "the source's bytes are untouched");
        client.persistentVolumeClaims()
                .inNamespace(frank)
                .withName("vm-restored")
                .delete();
    }

    /** Waits until the target agent has received data for the copy into the claim of {@code targetUid}; its prime's PV. */
    static String awaitBytesArriving(String targetUid) {
        await(() -> "the copy under way; task " + task(targetUid), () -> {
            var task = task(targetUid);
            return task != null
                    && task.status() != null
                    && task.status().phase() == dev.lockkeeper.sidecar.agent.TaskStatus.Phase.Running
                    && task.status().bytesDone() > 0;
        });
        return claim(INSTALLATION, "prime-" + targetUid).getSpec().getVolumeName();
    }

    /** The agents ended the task Canceled, and the controller and kubelet removed everything the copy made. */
    static void assertCanceled(String sourceNamespace, String targetUid, String primePv) {
        await(
                () -> "the task Canceled; phases " + simulators.taskPhases,
                () -> simulators.taskPhases.contains(targetUid + " Canceled"));
        assertFalse(
                simulators.taskPhases.contains(targetUid + " Succeeded"),
                () -> "cancelled before it finished: " + simulators.taskPhases);
        assertNothingLeft(sourceNamespace, targetUid);
        await(
                () -> "the prime's volume " + primePv + " and its storage released",
                () -> client.persistentVolumes().withName(primePv).get() == null
                        && !kubelet.hasStorage(primePv)
                        && kubelet.loopDevicesOf(primePv).isEmpty());
    }

    static byte[] writeRandom(Path device, int size, long seed) throws IOException {
        byte[] disk = new byte[size];
        new Random(seed).nextBytes(disk);
        try (RandomAccessFile out = new RandomAccessFile(device.toFile(), "rw")) {
            out.write(disk);
            out.getFD().sync();
        }
        return disk;
    }

    // --- controller restart

    /**
     * The controller stopped while the agents stream (4 MiB/s of 16 MiB) and another one started: it takes the copy over
     * where it is, finishes it, and nothing was made twice: one CopyTask, one prime, one target holder.
     */
    @Test
    void aControllerReplacedMidCopyFinishesItOnce() throws Exception {
        String gina = "gina";
        createClaim(gina, "vm", "fast", "16Mi", "Block", Map.of(), null);
        await("the source bound", () -> bound(gina, "vm"));
        byte[] disk = writeRandom(kubelet.device(claim(gina, "vm").getSpec().getVolumeName()), 16 << 20, 23);
        createVolumeCopy(gina, "vm-copy", gina, "vm", Map.of("maxRate", "4M"));
        String uid = createClaim(
                        gina,
                        "vm-restored",
                        "local",
                        "32Mi",
                        "Filesystem",
                        Map.of(Keys.SELECTED_NODE, "node-b"),
                        "vm-copy")
                .getMetadata()
                .getUid();
        awaitBytesArriving(uid);
        controller.close();
        startController();

        PersistentVolumeClaim target = assertPopulated(gina, "vm-restored", "vm-copy", gina);
        assertArrayEquals(
                disk,
                Files.readAllBytes(
                        kubelet.filesystem(target.getSpec().getVolumeName()).resolve("disk.img")));
        assertEquals(digest(disk), volumeCopy(gina, "vm-copy").status().digest());
        assertEquals(
                List.of(1L, 1L, 1L),
                List.of(
                        simulators.creations("CopyTask", INSTALLATION, uid),
                        simulators.creations("PersistentVolumeClaim", INSTALLATION, "prime-" + uid),
                        simulators.creations(
                                "Pod", INSTALLATION, dev.lockkeeper.controller.plan.Names.targetHolder(uid))),
                "one task, one prime, one target holder");
        assertEquals(
                1,
                events(gina).stream()
                        .filter(e -> e.getReason().equals("CloneSucceeded"))
                        .count(),
                "one success reported");
    }

    static dev.lockkeeper.controller.api.CopyTaskResource task(String targetUid) {
        var object = client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(INSTALLATION)
                .withName(targetUid)
                .get();
        return object == null ? null : Json.copyTask(object);
    }

    /**
     * The agents' content digest computed here from the bytes (the sidecar's ContentDigest): SHA-256 over the size and
     * the CRC32C of every 4 MiB block.
     */
    static String digest(byte[] image) throws Exception {
        var rollUp = java.security.MessageDigest.getInstance("SHA-256");
        rollUp.update(ByteBuffer.allocate(Long.BYTES).putLong(0, image.length).array());
        for (int start = 0; start < image.length; start += 4 << 20) {
            var crc = new java.util.zip.CRC32C();
            crc.update(image, start, Math.min(4 << 20, image.length - start));
            rollUp.update(ByteBuffer.allocate(Integer.BYTES)
                    .putInt(0, (int) crc.getValue())
                    .array());
        }
        return "crc32c-4MiB+sha256:" + HexFormat.of().formatHex(rollUp.digest());
    }

    /** A raw disk: 4 MiB of data, a hole, 1 MiB of data at 20 MiB, zeros to the end (32 MiB). */
    static byte[] writeDisk(Path device) throws IOException {
        byte[] disk = new byte[32 << 20];
        Random random = new Random(11);
        byte[] head = new byte[4 << 20], tail = new byte[1 << 20];
        random.nextBytes(head);
        random.nextBytes(tail);
        System.arraycopy(head, 0, disk, 0, head.length);
        System.arraycopy(tail, 0, disk, 20 << 20, tail.length);
        try (RandomAccessFile out = new RandomAccessFile(device.toFile(), "rw")) {
            out.write(disk);
            out.getFD().sync();
        }
        return disk;
    }

    // --- archive content

    /**
     * A same-namespace copy of a filesystem volume with {@code contentType: archive}: the tree on node-a is copied
     * locally by node-a's agent, owners, modes (setuid and sticky bits too), extended attributes, hard links, symbolic
     * links and a sparse file kept.
     */
    @Test
    void sameNamespaceArchiveCopyKeepsOwnersModesXattrsAndHardLinks() throws Exception {
        String bob = "bob";
        createClaim(bob, "site", "fast", "64Mi", "Filesystem", Map.of(Keys.CONTENT_TYPE, "archive"), null);
        await("the source bound", () -> bound(bob, "site"));
        Path source = kubelet.filesystem(claim(bob, "site").getSpec().getVolumeName());
        writeTree(source);

        createVolumeCopy(bob, "site-copy", bob, "site", Map.of("contentType", "archive"));
        createClaim(bob, "site-restored", "fast", "64Mi", "Filesystem", Map.of(), "site-copy");

        PersistentVolumeClaim target = assertPopulated(bob, "site-restored", "site-copy", bob);
        Path copied = kubelet.filesystem(target.getSpec().getVolumeName());
        assertNotEquals(source, copied);
        assertEquals(tree(source), tree(copied), "the tree, with owners, modes, xattrs and links, is copied exactly");
        assertTrue(
                volumeCopy(bob, "site-copy").status().digest().startsWith("tree+crc32c-4MiB+sha256:"),
                "a tree's digest");
        var transfer = volumeCopy(bob, "site-copy").status().transfer();
        assertEquals(
                List.of("node-a", "node-a", true),
                List.of(transfer.sourceNode(), transfer.targetNode(), transfer.local()));
    }

    static void writeTree(Path root) throws IOException {
        Path etc = Files.createDirectory(root.resolve("etc"));
        Path config = Files.writeString(etc.resolve("site.conf"), "listen 8080\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r-----"));
        owner(config, 1001, 1002);
        owner(etc, 1001, 1002);
        Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwxr-x---"));
        UserDefinedFileAttributeView xattrs = Files.getFileAttributeView(config, UserDefinedFileAttributeView.class);
        xattrs.write("lockkeeper.origin", StandardCharsets.UTF_8.encode("golden"));
        Path data = Files.createDirectory(root.resolve("data"));
        byte[] content = new byte[3 << 20];
        new Random(5).nextBytes(content);
        Path blob = Files.write(data.resolve("blob.bin"), content);
        Files.createLink(data.resolve("blob.link"), blob);
        Files.createSymbolicLink(root.resolve("current"), Path.of("data/blob.bin"));
        try (RandomAccessFile sparse =
                new RandomAccessFile(data.resolve("sparse.img").toFile(), "rw")) {
            sparse.seek(6 << 20);
            sparse.write("end".getBytes(StandardCharsets.UTF_8));
        }
        Path tool = Files.writeString(Files.createDirectory(root.resolve("bin")).resolve("tool"), "#!/bin/sh\n");
        KubeletSimulator.run("chmod", "4755", tool.toString());
        Path shared = Files.createDirectory(root.resolve("shared"));
        KubeletSimulator.run("chmod", "1777", shared.toString());
    }

    static void owner(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Every entry below {@code root} (lost+found aside: each ext4 has its own) with its type, mode, owner, size,
     * content digest, link target, user xattrs, and which entries share an inode.
     */
    static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Map<Object, String> firstNameOfInode = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted().toList()) {
                if (path.equals(root) || root.relativize(path).startsWith("lost+found")) continue;
                String name = root.relativize(path).toString();
                Map<String, Object> unix = Files.readAttributes(path, "unix:*", LinkOption.NOFOLLOW_LINKS);
                StringBuilder entry = new StringBuilder();
                entry.append(String.format(
                        "mode=%o uid=%s gid=%s", (Integer) unix.get("mode"), unix.get("uid"), unix.get("gid")));
                if (Files.isSymbolicLink(path)) {
                    entry.append(" -> ").append(Files.readSymbolicLink(path));
                } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    entry.append(" size=").append(Files.size(path));
                    entry.append(" sha256=").append(sha256(path));
                    String first = firstNameOfInode.putIfAbsent(unix.get("ino"), name);
                    if (first != null) entry.append(" hardlink-of=").append(first);
                    UserDefinedFileAttributeView view =
                            Files.getFileAttributeView(path, UserDefinedFileAttributeView.class);
                    for (String xattr : view.list().stream().sorted().toList()) {
                        ByteBuffer value = ByteBuffer.allocate(view.size(xattr));
                        view.read(xattr, value);
                        entry.append(" xattr:")
                                .append(xattr)
                                .append('=')
                                .append(new String(value.array(), StandardCharsets.UTF_8));
                    }
                }
                entries.put(name, entry.toString());
            }
        }
        return entries;
    }

    static String sha256(Path file) throws IOException {
        try {
            var digest = java.security.MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
