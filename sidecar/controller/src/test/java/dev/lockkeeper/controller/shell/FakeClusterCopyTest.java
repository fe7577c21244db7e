package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.certs.token.InvalidCloneTokenException;
import dev.lockkeeper.certs.token.TokenKeyFiles;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.cli.ControllerCommand;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.testing.Await;
import dev.lockkeeper.controller.testing.MockCluster;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The controller against fabric8's mock API server (CRUD mode) with the {@link Simulators} around it. Every test uses
 * its own namespaces, so the cluster is shared; each ends by checking that nothing the copy made is left.
 */
class FakeClusterCopyTest {
    static KubernetesMockServer server;
    static KubernetesClient client;
    static Simulators simulators;
    /** The webhook's clone-token keys as it keeps them on disk; the controller reads the public half as in production. */
    @TempDir
    static Path tokenKeyDir;

    static KeyPair webhookKeys;
    static CloneTokenCheck tokenCheck;
    CopyController controller;
    String ns;
    String golden;

    @BeforeAll
    static void cluster() throws Exception {
        server = MockCluster.startCrud();
        client = server.createClient();
        MockCluster.installCopyBasics(client);
        simulators = new Simulators(client);
        // the agent simulator takes the tasks, but cross-node tasks wait for the source node's agent pod to be ready
        for (String node : List.of("node-a", "node-b"))
            AgentPods.create(client, "lockkeeper", node, node.equals("node-a") ? "10.244.1.7" : "10.244.2.9");
        Path keyFile = tokenKeyDir.resolve("token.key");
        webhookKeys = TokenKeyFiles.loadOrGenerate(keyFile);
        tokenCheck = ControllerCommand.tokenCheck(TokenKeyFiles.publicKeyFile(keyFile));
    }

    @AfterAll
    static void stop() throws Exception {
        simulators.close();
        client.close();
        MockCluster.destroy(server);
    }

    @BeforeEach
    void names(TestInfo test) {
        String tag = Integer.toHexString(test.getDisplayName().hashCode() & 0xffff);
        ns = "alice-" + tag;
        golden = "golden-" + tag;
        simulators.holdCopies = false;
        simulators.released.clear();
        simulators.holdBinding = false;
    }

    @AfterEach
    void stopController() {
        if (controller != null) controller.close();
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
    }

    CopyController startController() {
        controller = new CopyController(client, Settings.DEFAULT, tokenCheck, Clock.systemUTC(), Duration.ofSeconds(2));
        controller.start();
        return controller;
    }

    PersistentVolumeClaim createSource(String namespace) {
        var source = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("win11")
                .withNamespace(namespace)
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName("fast")
                .withNewResources()
                .addToRequests("storage", new Quantity("1Gi"))
                .endResources()
                .endSpec()
                .build();
        client.resource(source).create();
        await("source bound", () -> bound(namespace, "win11"));
        return client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName("win11")
                .get();
    }

    void createCopy(String sourceNamespace, String token) {
        createCopy(sourceNamespace, token, "win11-copy");
    }

    void createCopy(String sourceNamespace, String token, String name) {
        var copy = new GenericKubernetesResource();
        copy.setApiVersion(Keys.API_VERSION);
        copy.setKind("VolumeCopy");
        copy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(name)
                .withNamespace(ns)
                .withAnnotations(token == null ? Map.of() : Map.of(Keys.CLONE_TOKEN, token))
                .build());
        copy.setAdditionalProperty(
                "spec", Map.of("source", Map.of("pvc", Map.of("namespace", sourceNamespace, "name", "win11"))));
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(ns)
                .resource(copy)
                .create();
    }

    PersistentVolumeClaim createTarget(String storageClass) {
        return createTarget(storageClass, Map.of());
    }

    PersistentVolumeClaim createTarget(String storageClass, Map<String, String> annotations) {
        return createTarget(storageClass, annotations, "disk0", "win11-copy");
    }

    PersistentVolumeClaim createTarget(
            String storageClass, Map<String, String> annotations, String name, String copyName) {
        return client.resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withNamespace(ns)
                        .withAnnotations(annotations)
                        .endMetadata()
                        .withNewSpec()
                        .withAccessModes("ReadWriteOnce")
                        .withStorageClassName(storageClass)
                        .withNewResources()
                        .addToRequests("storage", new Quantity("1Gi"))
                        .endResources()
                        .withNewDataSourceRef()
                        .withApiGroup(Keys.GROUP)
                        .withKind("VolumeCopy")
                        .withName(copyName)
                        .endDataSourceRef()
                        .endSpec()
                        .build())
                .create();
    }

    String token(Instant mintedAt, String sourceNamespace, String targetName) {
        return new CloneTokenSigner(webhookKeys.getPrivate(), Clock.fixed(mintedAt, ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(
                        TokenResource.PERSISTENT_VOLUME_CLAIMS, sourceNamespace, "win11", ns, targetName));
    }

    PersistentVolumeClaim target() {
        return client.persistentVolumeClaims().inNamespace(ns).withName("disk0").get();
    }

    VolumeCopy copy() {
        return Json.volumeCopy(client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(ns)
                .withName("win11-copy")
                .get());
    }

    boolean bound(String namespace, String name) {
        var claim = client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName(name)
                .get();
        return claim != null
                && claim.getStatus() != null
                && "Bound".equals(claim.getStatus().getPhase());
    }

    List<Event> events(String namespace) {
        return client.v1().events().inNamespace(namespace).list().getItems();
    }

    List<String> eventReasons(String namespace) {
        return client.v1().events().inNamespace(namespace).list().getItems().stream()
                .map(e -> e.getReason())
                .sorted()
                .toList();
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition);
    }

    static void await(Supplier<String> what, BooleanSupplier condition) {
        Await.until(Duration.ofSeconds(30), Duration.ofMillis(25), what, condition);
    }

    /** What a finished or cancelled copy must leave: no prime, holder or task; the finalizer gone. */
    void assertNothingLeft(String sourceNamespace, String targetUid) {
        await(
                () -> "holders, prime and task removed; left: " + left(sourceNamespace, targetUid)
                        + "; what the controller made and removed: "
                        + simulators.history.stream()
                                .filter(h -> h.contains(targetUid) || h.contains(" " + sourceNamespace + "/"))
                                .toList(),
                () -> left(sourceNamespace, targetUid).isEmpty());
    }

    List<String> left(String sourceNamespace, String targetUid) {
        return Simulators.copyObjectsLeft(client, sourceNamespace, targetUid);
    }

    void assertCopied(String sourceNamespace) {
        await("target bound", () -> bound(ns, "disk0"));
        await(
                "clone succeeded",
                () -> "Succeeded".equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        PersistentVolumeClaim target = target();
        await(
                "finalizer released",
                () -> !target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        Map<String, String> annotations = target().getMetadata().getAnnotations();
        assertEquals("copy", annotations.get(Keys.CLONE_TYPE));
        assertEquals("true", annotations.get(Keys.CLONE_OF));
        assertEquals("100.00%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertFalse(annotations.containsKey(Keys.CLONE_ERROR));
        PersistentVolume pv = client.persistentVolumes()
                .withName(target.getSpec().getVolumeName())
                .get();
        assertEquals(target.getMetadata().getUid(), pv.getSpec().getClaimRef().getUid());
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy(), "the reclaim policy is restored");
        assertFalse(pv.getMetadata().getAnnotations().containsKey(Keys.RECLAIM_POLICY));
        assertEquals(ns + "/win11-copy", pv.getMetadata().getAnnotations().get(Keys.POPULATED_FROM));
        VolumeCopy copy = copy();
        assertEquals("Succeeded", copy.status().phase());
        assertEquals("disk0", copy.status().claimRef().name());
        assertEquals("crc32c-4MiB+sha256:" + "ab".repeat(32), copy.status().digest());
        assertTrue(copy.status().condition("Ready").orElseThrow().isTrue());
        await(
                "events",
                () -> eventReasons(ns).containsAll(List.of("CloneScheduled", "CloneSucceeded", "CopyVerified")));
        assertNothingLeft(sourceNamespace, target.getMetadata().getUid());
    }

    @Test
    void sameNamespaceCopyEndsBoundWithCdisAnnotationsAndEvents() {
        createSource(ns);
        startController();
        createCopy(ns, null);
        createTarget("fast");
        assertCopied(ns);
        assertEquals(
                "SameNamespace",
                copy().status().condition("Authorized").orElseThrow().reason());
    }

    @Test
    void crossNamespaceCopyWithAValidTokenEndsBound() {
        createSource(golden);
        startController();
        createCopy(golden, token(Instant.now(), golden, "win11-copy"));
        createTarget("fast");
        assertCopied(golden);
        assertTokenVerified();
    }

    void assertTokenVerified() {
        var authorized = copy().status().condition("Authorized").orElseThrow();
        assertEquals(
                List.of("True", "TokenVerified", "the clone token was valid when the VolumeCopy was created"),
                List.of(authorized.status(), authorized.reason(), authorized.message()));
    }

    @Test
    void aTokenExpiredAtReconcileButValidAtCreationStillWorks() throws Exception {
        createSource(golden);
        // minted so that it expires (leeway included) 4 s from now: time for the create just below (the API server
        // cuts creationTimestamp to the second, which only moves it earlier), and all the wait for its expiry takes
        String token = token(
                Instant.now()
                        .minus(CloneTokenSigner.LIFETIME)
                        .minusSeconds(CloneTokenVerifier.LEEWAY_SECONDS)
                        .plusSeconds(4),
                golden,
                "win11-copy");
        createCopy(golden, token);
        createTarget("fast");
        var verifier = new CloneTokenVerifier(webhookKeys.getPublic(), Clock.systemUTC());
        var expected = new CloneTokenVerifier.ExpectedClone(
                TokenResource.PERSISTENT_VOLUME_CLAIMS,
                golden,
                "win11",
                ns,
                "win11-copy",
                copy().metadata().getUid());
        await("the token expired", () -> {
            try {
                verifier.verify(token, expected);
                return false;
            } catch (InvalidCloneTokenException e) {
                return true;
            }
        });
        startController();
        assertCopied(golden);
        assertTokenVerified();
    }

    /**
     * A refused token fails the copy in the first pass, before anything is made: CDI's "invalid token" on the claim
     * and its CloneValidationFailed Event, the verifier's reason on the VolumeCopy, and no prime, holder or CopyTask
     * ever created (the watches would have reported one that lived for a moment).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"for another target", "tampered", "missing", "expired before the VolumeCopy was created"})
    void aBadTokenFailsTheCopyBeforeAnythingIsMade(String badToken) {
        String sourceUid = createSource(golden).getMetadata().getUid();
        startController();
        String forAnotherTarget = token(Instant.now(), golden, "someone-else");
        String token;
        String why;
        switch (badToken) {
            case "for another target" -> {
                token = forAnotherTarget;
                why = "target name does not match";
            }
            case "tampered" -> {
                // the claims edited to name this target, the webhook's signature kept
                String[] parts = forAnotherTarget.split("\\.");
                String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace("\"someone-else\"", "\"win11-copy\"");
                token = parts[0] + "."
                        + Base64.getUrlEncoder()
                                .withoutPadding()
                                .encodeToString(claims.getBytes(StandardCharsets.UTF_8))
                        + "." + parts[2];
                why = "signature does not verify";
            }
            case "missing" -> {
                token = null;
                why = "clone token missing";
            }
            case "expired before the VolumeCopy was created" -> {
                Instant mintedAt = Instant.now()
                        .minus(CloneTokenSigner.LIFETIME)
                        .minusSeconds(CloneTokenVerifier.LEEWAY_SECONDS + 60);
                token = token(mintedAt, golden, "win11-copy");
                why = "expired at " + mintedAt.plus(CloneTokenSigner.LIFETIME).truncatedTo(ChronoUnit.SECONDS);
            }
            default -> throw new IllegalArgumentException(badToken);
        }
        createCopy(golden, token);
        createTarget("fast");
        String uid = target().getMetadata().getUid();
        await(
                "copy failed",
                () -> copy().status() != null && "Failed".equals(copy().status().phase()));
        await("the event", () -> !events(ns).isEmpty());

        Map<String, String> annotations = target().getMetadata().getAnnotations();
        assertEquals("invalid token", annotations.get(Keys.CLONE_ERROR));
        assertEquals("Error", annotations.get(Keys.CLONE_PHASE));
        assertFalse(annotations.containsKey(Keys.CLONE_TYPE), "the claim was never initialised for a copy");
        assertFalse(target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        var authorized = copy().status().condition("Authorized").orElseThrow();
        assertEquals(
                List.of("False", "InvalidToken", why),
                List.of(authorized.status(), authorized.reason(), authorized.message()));
        assertEquals("invalid token", copy().status().message());
        var event = events(ns).getFirst();
        assertEquals(
                List.of(
                        "Warning",
                        "CloneValidationFailed",
                        "The clone doesn't meet the validation requirements: invalid token",
                        uid),
                List.of(
                        event.getType(),
                        event.getReason(),
                        event.getMessage(),
                        event.getInvolvedObject().getUid()));
        assertEquals(1, events(ns).size(), () -> "one Event: " + events(ns));

        assertEquals(
                List.of(),
                simulators.created.stream()
                        .filter(c -> c.contains(uid) || c.contains(sourceUid))
                        .toList(),
                "nothing was made for a refused copy");
        assertNothingLeft(golden, uid);
        assertNull(target().getSpec().getVolumeName(), "the claim stays Pending");
    }

    @Test
    void aSourceInUseWaitsUntilThePodGoes() {
        createSource(ns);
        client.resource(new PodBuilder()
                        .withNewMetadata()
                        .withName("vm-launcher")
                        .withNamespace(ns)
                        .endMetadata()
                        .withNewSpec()
                        .addNewContainer()
                        .withName("compute")
                        .withImage("virt-launcher")
                        .addNewVolumeMount()
                        .withName("disk")
                        .withMountPath("/disk")
                        .endVolumeMount()
                        .endContainer()
                        .addNewVolume()
                        .withName("disk")
                        .withNewPersistentVolumeClaim("win11", false)
                        .endVolume()
                        .endSpec()
                        .build())
                .create();
        await("user pod running", () -> {
            var pod = client.pods().inNamespace(ns).withName("vm-launcher").get();
            return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        });
        startController();
        createCopy(ns, null);
        createTarget("fast");
        await("in-use event", () -> eventReasons(ns).contains("CloneSourceInUse"));
        var event = client.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> e.getReason().equals("CloneSourceInUse"))
                .findFirst()
                .orElseThrow();
        assertEquals("pod " + ns + "/vm-launcher using PersistentVolumeClaim win11", event.getMessage());
        assertEquals("Warning", event.getType());
        await(
                "the copy waits",
                () -> copy().status() != null
                        && copy().status().condition("SourceReady").isPresent());
        var sourceReady = copy().status().condition("SourceReady").orElseThrow();
        assertEquals(
                List.of("False", "CloneSourceInUse", "pod " + ns + "/vm-launcher using PersistentVolumeClaim win11"),
                List.of(sourceReady.status(), sourceReady.reason(), sourceReady.message()));
        assertEquals("Pending", target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE));
        assertTrue(
                client.pods()
                        .inNamespace(ns)
                        .withLabel(Keys.MANAGED_BY, "lockkeeper")
                        .list()
                        .getItems()
                        .isEmpty(),
                "no holder while in use");
        String uid = target().getMetadata().getUid();
        assertEquals(0, simulators.creations("CopyTask", "lockkeeper", uid), "no task while in use");
        client.pods().inNamespace(ns).withName("vm-launcher").delete();
        assertCopied(ns);
    }

    @Test
    void waitForFirstConsumerCopiesOnceTheSchedulerPicksANode() {
        createSource(ns);
        startController();
        createCopy(ns, null);
        createTarget("local");
        // nothing happens before a consumer is scheduled: CDI's claimReadyForPopulation
        await(
                "pending",
                () -> target().getMetadata().getAnnotations() != null
                        && "Pending"
                                .equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        assertNull(client.persistentVolumeClaims()
                .inNamespace("lockkeeper")
                .withName("prime-" + target().getMetadata().getUid())
                .get());
        // the source node's agent is not ready: the copy waits, saying for what, and no task is made
        agentReady("node-a", false);
        client.persistentVolumeClaims()
                .inNamespace(ns)
                .withName("disk0")
                .patch(
                        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-b\"}}}");
        String uid = target().getMetadata().getUid();
        try {
            await(
                    () -> "the copy waits for node-a's agent; status " + copy().status(),
                    () -> copy().status() != null
                            && ("waiting for a ready agent pod on node node-a (label app.kubernetes.io/component=agent"
                                            + " in namespace lockkeeper): the copy to node node-b streams from it")
                                    .equals(copy().status().message()));
            assertEquals("CloneScheduled", copy().status().phase());
            assertEquals(
                    0, simulators.creations("CopyTask", "lockkeeper", uid), "no task without a ready source agent");
        } finally {
            simulators.holdCopies = true;
            agentReady("node-a", true);
        }
        await("task", () -> task(uid) != null);
        assertEquals(
                "10.244.1.7:8444",
                Json.copyTask(task(uid)).spec().source().address(),
                "the cross-node task streams from node-a's agent pod");
        simulators.holdCopies = false;
        assertCopied(ns);
        assertEquals("node-b", copy().status().transfer().targetNode(), "the target holder ran on the selected node");
    }

    /** Sets the agent pod's one Ready condition (a JSON patch: the mock merges condition lists by appending). */
    static void agentReady(String node, boolean ready) {
        client.pods()
                .inNamespace("lockkeeper")
                .withName("lockkeeper-agent-" + node)
                .patch(
                        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                        "[{\"op\":\"replace\",\"path\":\"/status/conditions/0/status\",\"value\":\""
                                + (ready ? "True" : "False") + "\"}]");
    }

    GenericKubernetesResource task(String targetUid) {
        return client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace("lockkeeper")
                .withName(targetUid)
                .get();
    }

    /** CDI's storage.bind.immediate.requested: a WaitForFirstConsumer claim is filled without a consumer, next to the source. */
    @Test
    void immediateBindingCopiesWithoutAConsumer() {
        createSource(ns);
        startController();
        createCopy(ns, null);
        createTarget("local", Map.of(Keys.IMMEDIATE_BINDING, "true"));
        assertCopied(ns);
        assertNull(target().getMetadata().getAnnotations().get(Keys.SELECTED_NODE), "no consumer was needed");
        var transfer = copy().status().transfer();
        assertEquals(
                List.of(Simulators.DEFAULT_NODE, Simulators.DEFAULT_NODE, true),
                List.of(transfer.sourceNode(), transfer.targetNode(), transfer.local()),
                "the prime was provisioned where the source holder runs");
    }

    /** A same-namespace copy whose agents hold it in CloneInProgress; returns the target claim's UID. */
    private String startCopyHeldMidway() {
        createSource(ns);
        simulators.holdCopies = true;
        startController();
        createCopy(ns, null);
        createTarget("fast");
        String uid = target().getMetadata().getUid();
        await(
                "copy running",
                () -> copy().status() != null
                        && "CloneInProgress".equals(copy().status().phase()));
        return uid;
    }

    /** Restarts did not make the copy twice: exactly one CopyTask and one prime claim were ever created for it. */
    private void assertOneTaskAndOnePrime(String uid) {
        assertEquals(1, simulators.creations("CopyTask", "lockkeeper", uid), "one CopyTask for the copy");
        assertEquals(1, simulators.creations("PersistentVolumeClaim", "lockkeeper", "prime-" + uid), "one prime");
    }

    @Test
    void aRestartedControllerFinishesTheCopyWithoutASecondTask() {
        String uid = startCopyHeldMidway();
        controller.close();
        controller = null;
        startController();
        simulators.holdCopies = false;
        assertCopied(ns);
        assertOneTaskAndOnePrime(uid);
    }

    @Test
    void deletingTheTargetMidCopyCancelsAndCleansUp() {
        String uid = startCopyHeldMidway();
        client.persistentVolumeClaims().inNamespace(ns).withName("disk0").delete();
        await("the target is gone", () -> target() == null);
        assertNothingLeft(ns, uid);
        assertTrue(client.persistentVolumes().list().getItems().stream()
                .noneMatch(pv -> pv.getMetadata().getName().equals("pv-" + uid)));
    }

    /**
     * The controller stopped after it moved the PV's claimRef to the user's claim (the PV held at Retain, its policy saved
     * in an annotation) but before the claim bound: the next controller finishes the swap and puts the policy back.
     */
    @Test
    void aControllerStoppedMidSwapRestoresTheReclaimPolicyWhenRestarted() {
        createSource(ns);
        simulators.holdBinding = true;
        startController();
        createCopy(ns, null);
        createTarget("fast");
        String uid = target().getMetadata().getUid();
        await("the prime bound", () -> bound("lockkeeper", "prime-" + uid));
        String pvName = client.persistentVolumeClaims()
                .inNamespace("lockkeeper")
                .withName("prime-" + uid)
                .get()
                .getSpec()
                .getVolumeName();
        await(
                "the claimRef moved",
                () -> uid.equals(client.persistentVolumes()
                        .withName(pvName)
                        .get()
                        .getSpec()
                        .getClaimRef()
                        .getUid()));
        controller.close();
        controller = null;
        PersistentVolume held = client.persistentVolumes().withName(pvName).get();
        assertEquals(
                "Retain", held.getSpec().getPersistentVolumeReclaimPolicy(), "held at Retain while the claimRef moves");
        assertEquals("Delete", held.getMetadata().getAnnotations().get(Keys.RECLAIM_POLICY), "the policy to restore");
        assertNull(target().getSpec().getVolumeName(), "not bound yet");
        startController();
        simulators.holdBinding = false;
        assertCopied(ns);
        assertOneTaskAndOnePrime(uid);
    }

    /** Deleting the VolumeCopy mid-copy cancels the task and removes everything; the claim is released and stays Pending. */
    @Test
    void deletingTheVolumeCopyMidCopyCancelsAndReleasesTheClaim() {
        String uid = startCopyHeldMidway();
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(ns)
                .withName("win11-copy")
                .delete();
        assertNothingLeft(ns, uid);
        await(
                "finalizer released",
                () -> !target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        assertEquals("Pending", target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE));
        assertNull(target().getSpec().getVolumeName(), "the claim stays Pending");
        assertTrue(
                client.persistentVolumes().list().getItems().stream()
                        .noneMatch(pv -> pv.getSpec().getClaimRef() != null
                                && uid.equals(pv.getSpec().getClaimRef().getUid())),
                "no volume was handed to the claim");
    }

    /** Ten copies of one source at once read it through one shared source holder, removed once the last copy is done. */
    @Test
    void tenCopiesOfOneSourceShareOneHolder() {
        String sourceUid = createSource(ns).getMetadata().getUid();
        simulators.holdCopies = true;
        startController();
        List<String> names = java.util.stream.IntStream.range(0, 10)
                .mapToObj(i -> "disk" + i)
                .toList();
        Map<String, String> uids = new java.util.LinkedHashMap<>();
        for (String name : names) {
            createCopy(ns, null, name + "-copy");
            uids.put(
                    name,
                    createTarget("fast", Map.of(), name, name + "-copy")
                            .getMetadata()
                            .getUid());
        }
        await(
                "ten copies running",
                () -> uids.values().stream().allMatch(uid -> {
                    var task = client.genericKubernetesResources(Resources.COPY_TASKS)
                            .inNamespace("lockkeeper")
                            .withName(uid)
                            .get();
                    return task != null
                            && Json.copyTask(task).status() != null
                            && Json.copyTask(task).status().phase() == TaskStatus.Phase.Running;
                }));
        String holderUid = client.pods()
                .inNamespace(ns)
                .withName("lk-src-" + sourceUid)
                .get()
                .getMetadata()
                .getUid();
        for (String uid : uids.values()) {
            var task = Json.copyTask(client.genericKubernetesResources(Resources.COPY_TASKS)
                    .inNamespace("lockkeeper")
                    .withName(uid)
                    .get());
            assertEquals(holderUid, task.spec().source().volume().podUID(), "every task reads through the one holder");
        }
        assertEquals(1, simulators.creations("Pod", ns, "lk-src-" + sourceUid), "one source holder for ten copies");

        simulators.released.add(uids.get("disk0"));
        await("disk0 succeeded", () -> {
            var claim = client.persistentVolumeClaims()
                    .inNamespace(ns)
                    .withName("disk0")
                    .get();
            return "Succeeded".equals(claim.getMetadata().getAnnotations().get(Keys.CLONE_PHASE))
                    && !claim.getMetadata().getFinalizers().contains(Keys.FINALIZER);
        });
        assertNotNull(
                client.pods().inNamespace(ns).withName("lk-src-" + sourceUid).get(),
                "the holder stays while nine copies read through it");
        simulators.holdCopies = false;
        for (String name : names) {
            await(name + " succeeded", () -> {
                var claim = client.persistentVolumeClaims()
                        .inNamespace(ns)
                        .withName(name)
                        .get();
                return bound(ns, name)
                        && "Succeeded"
                                .equals(claim.getMetadata().getAnnotations().get(Keys.CLONE_PHASE))
                        && !claim.getMetadata().getFinalizers().contains(Keys.FINALIZER);
            });
        }
        uids.values().forEach(uid -> assertNothingLeft(ns, uid));
        assertEquals(
                1,
                simulators.creations("Pod", ns, "lk-src-" + sourceUid),
                "the holder was never removed and made again");
    }
}
