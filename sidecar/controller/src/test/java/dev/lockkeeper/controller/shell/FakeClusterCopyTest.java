package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.certs.token.InvalidCloneTokenException;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.Settings;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The controller against fabric8's mock API server (CRUD mode) with the {@link Simulators} around it. Every test uses
 * its own namespaces, so the cluster is shared; each ends by checking that nothing the copy made is left.
 */
class FakeClusterCopyTest {
    static final Path CRDS = Path.of("../../manifests/crds");
    static KubernetesMockServer server;
    static KubernetesClient client;
    static Simulators simulators;
    static final KeyPair webhookKeys = KeyPairs.newEd25519();
    CopyController controller;
    String ns;
    String golden;

    @BeforeAll
    static void cluster() throws Exception {
        server = MockCluster.startCrud();
        client = server.createClient();
        for (String crd : List.of("volumecopies.yaml", "copytasks.yaml")) {
            try (var in = Files.newInputStream(CRDS.resolve(crd))) {
                client.load(in).create();
            }
        }
        client.resource(new StorageClassBuilder().withNewMetadata().withName("fast").endMetadata().withProvisioner("csi.example.com")
                .withVolumeBindingMode("Immediate").withReclaimPolicy("Delete").build()).create();
        client.resource(new StorageClassBuilder().withNewMetadata().withName("local").endMetadata().withProvisioner("csi.example.com")
                .withVolumeBindingMode("WaitForFirstConsumer").withReclaimPolicy("Delete").build()).create();
        simulators = new Simulators(client);
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
    }

    @AfterEach
    void stopController() {
        if (controller != null) controller.close();
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
    }

    CopyController startController() {
        controller = new CopyController(client, Settings.DEFAULT, new CloneTokenCheck(webhookKeys.getPublic()), Clock.systemUTC(), Duration.ofSeconds(2));
        controller.start();
        return controller;
    }

    PersistentVolumeClaim createSource(String namespace) {
        var source = new PersistentVolumeClaimBuilder().withNewMetadata().withName("win11").withNamespace(namespace).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withStorageClassName("fast")
                .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build();
        client.resource(source).create();
        await("source bound", () -> bound(namespace, "win11"));
        return client.persistentVolumeClaims().inNamespace(namespace).withName("win11").get();
    }

    void createCopy(String sourceNamespace, String token) {
        var copy = new GenericKubernetesResource();
        copy.setApiVersion(Keys.API_VERSION);
        copy.setKind("VolumeCopy");
        copy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("win11-copy").withNamespace(ns)
                .withAnnotations(token == null ? Map.of() : Map.of(Keys.CLONE_TOKEN, token)).build());
        copy.setAdditionalProperty("spec", Map.of("source", Map.of("pvc", Map.of("namespace", sourceNamespace, "name", "win11"))));
        client.genericKubernetesResources(Resources.VOLUME_COPIES).inNamespace(ns).resource(copy).create();
    }

    PersistentVolumeClaim createTarget(String storageClass) {
        return client.resource(new PersistentVolumeClaimBuilder().withNewMetadata().withName("disk0").withNamespace(ns).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withStorageClassName(storageClass)
                .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources()
                .withNewDataSourceRef().withApiGroup(Keys.GROUP).withKind("VolumeCopy").withName("win11-copy").endDataSourceRef()
                .endSpec().build()).create();
    }

    String token(Instant mintedAt, String sourceNamespace, String targetName) {
        return new CloneTokenSigner(webhookKeys.getPrivate(), Clock.fixed(mintedAt, ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(TokenResource.PERSISTENT_VOLUME_CLAIMS, sourceNamespace, "win11", ns, targetName));
    }

    PersistentVolumeClaim target() {
        return client.persistentVolumeClaims().inNamespace(ns).withName("disk0").get();
    }

    VolumeCopy copy() {
        return Json.volumeCopy(client.genericKubernetesResources(Resources.VOLUME_COPIES).inNamespace(ns).withName("win11-copy").get());
    }

    boolean bound(String namespace, String name) {
        var claim = client.persistentVolumeClaims().inNamespace(namespace).withName(name).get();
        return claim != null && claim.getStatus() != null && "Bound".equals(claim.getStatus().getPhase());
    }

    List<String> eventReasons(String namespace) {
        return client.v1().events().inNamespace(namespace).list().getItems().stream().map(e -> e.getReason()).sorted().toList();
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** What a finished or cancelled copy must leave: no prime, holder or task; the finalizer gone. */
    void assertNothingLeft(String sourceNamespace, String targetUid) {
        await("holders, prime and task removed", () ->
                client.pods().inNamespace(sourceNamespace).withLabel(Keys.MANAGED_BY, "lockkeeper").list().getItems().isEmpty()
                        && client.pods().inNamespace("lockkeeper").withLabel(Keys.TARGET_UID, targetUid).list().getItems().isEmpty()
                        && client.persistentVolumeClaims().inNamespace("lockkeeper").withName("prime-" + targetUid).get() == null
                        && client.genericKubernetesResources(Resources.COPY_TASKS).inNamespace("lockkeeper").withName(targetUid).get() == null);
    }

    void assertCopied(String sourceNamespace) {
        await("target bound", () -> bound(ns, "disk0"));
        await("clone succeeded", () -> "Succeeded".equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        PersistentVolumeClaim target = target();
        await("finalizer released", () -> !target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        Map<String, String> annotations = target().getMetadata().getAnnotations();
        assertEquals("copy", annotations.get(Keys.CLONE_TYPE));
        assertEquals("true", annotations.get(Keys.CLONE_OF));
        assertEquals("100.00%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertFalse(annotations.containsKey(Keys.CLONE_ERROR));
        PersistentVolume pv = client.persistentVolumes().withName(target.getSpec().getVolumeName()).get();
        assertEquals(target.getMetadata().getUid(), pv.getSpec().getClaimRef().getUid());
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy(), "the reclaim policy is restored");
        assertFalse(pv.getMetadata().getAnnotations().containsKey(Keys.RECLAIM_POLICY));
        assertEquals(ns + "/win11-copy", pv.getMetadata().getAnnotations().get(Keys.POPULATED_FROM));
        VolumeCopy copy = copy();
        assertEquals("Succeeded", copy.status().phase());
        assertEquals("disk0", copy.status().claimRef().name());
        assertEquals("crc32c-4MiB+sha256:" + "ab".repeat(32), copy.status().digest());
        assertTrue(copy.status().condition("Ready").orElseThrow().isTrue());
        await("events", () -> eventReasons(ns).containsAll(List.of("CloneScheduled", "CloneSucceeded", "CopyVerified")));
        assertNothingLeft(sourceNamespace, target.getMetadata().getUid());
    }

    @Test
    void sameNamespaceCopyEndsBoundWithCdisAnnotationsAndEvents() {
        createSource(ns);
        startController();
        createCopy(ns, null);
        createTarget("fast");
        assertCopied(ns);
        assertEquals("SameNamespace", copy().status().condition("Authorized").orElseThrow().reason());
    }

    @Test
    void crossNamespaceCopyWithAValidTokenEndsBound() {
        createSource(golden);
        startController();
        createCopy(golden, token(Instant.now(), golden, "win11-copy"));
        createTarget("fast");
        assertCopied(golden);
        assertEquals("TokenVerified", copy().status().condition("Authorized").orElseThrow().reason());
    }

    @Test
    void aTokenExpiredAtReconcileButValidAtCreationStillWorks() throws Exception {
        createSource(golden);
        // minted so that it expires (leeway included) a few seconds after the object is created
        String token = token(Instant.now().minus(CloneTokenSigner.LIFETIME).plusSeconds(1), golden, "win11-copy");
        createCopy(golden, token);
        createTarget("fast");
        var verifier = new CloneTokenVerifier(webhookKeys.getPublic(), Clock.systemUTC());
        var expected = new CloneTokenVerifier.ExpectedClone(TokenResource.PERSISTENT_VOLUME_CLAIMS, golden, "win11", ns, "win11-copy", copy().metadata().getUid());
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
    }

    @Test
    void badTokensFailTheCopyBeforeAnythingIsMade() {
        createSource(golden);
        startController();
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("other target", token(Instant.now(), golden, "someone-else"));
        String good = token(Instant.now(), golden, "win11-copy");
        cases.put("tampered", good.substring(0, good.length() - 4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA"));
        cases.put("missing", null);
        int i = 0;
        for (var entry : cases.entrySet()) {
            ns = "bad-" + (i++) + "-" + golden;
            createCopy(golden, entry.getValue());
            createTarget("fast");
            await(entry.getKey() + ": copy failed", () -> copy().status() != null && "Failed".equals(copy().status().phase()));
            assertEquals("invalid token", target().getMetadata().getAnnotations().get(Keys.CLONE_ERROR), entry.getKey());
            assertEquals("Error", target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE), entry.getKey());
            assertFalse(copy().status().condition("Authorized").orElseThrow().isTrue(), entry.getKey());
            assertEquals(List.of("CloneValidationFailed"), eventReasons(ns), entry.getKey());
            assertNothingLeft(golden, target().getMetadata().getUid());
            assertNull(target().getSpec().getVolumeName(), entry.getKey() + ": the claim stays Pending");
        }
    }

    @Test
    void aSourceInUseWaitsUntilThePodGoes() {
        createSource(ns);
        client.resource(new PodBuilder().withNewMetadata().withName("vm-launcher").withNamespace(ns).endMetadata()
                .withNewSpec().addNewContainer().withName("compute").withImage("virt-launcher").addNewVolumeMount().withName("disk")
                .withMountPath("/disk").endVolumeMount().endContainer()
                .addNewVolume().withName("disk").withNewPersistentVolumeClaim("win11", false).endVolume().endSpec().build()).create();
        await("user pod running", () -> {
            var pod = client.pods().inNamespace(ns).withName("vm-launcher").get();
            return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        });
        startController();
        createCopy(ns, null);
        createTarget("fast");
        await("in-use event", () -> eventReasons(ns).contains("CloneSourceInUse"));
        var event = client.v1().events().inNamespace(ns).list().getItems().stream().filter(e -> e.getReason().equals("CloneSourceInUse")).findFirst().orElseThrow();
        assertEquals("pod " + ns + "/vm-launcher using PersistentVolumeClaim win11", event.getMessage());
        assertEquals("Warning", event.getType());
        assertTrue(client.pods().inNamespace(ns).withLabel(Keys.MANAGED_BY, "lockkeeper").list().getItems().isEmpty(), "no holder while in use");
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
        await("pending", () -> target().getMetadata().getAnnotations() != null && "Pending".equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        assertNull(client.persistentVolumeClaims().inNamespace("lockkeeper").withName("prime-" + target().getMetadata().getUid()).get());
        client.persistentVolumeClaims().inNamespace(ns).withName("disk0").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-b\"}}}");
        await("task", () -> !client.genericKubernetesResources(Resources.COPY_TASKS).inNamespace("lockkeeper").list().getItems().stream()
                .filter(t -> t.getMetadata().getName().equals(target().getMetadata().getUid())).toList().isEmpty()
                || bound(ns, "disk0"));
        assertCopied(ns);
        assertEquals("node-b", copy().status().transfer().targetNode(), "the target holder ran on the selected node");
    }

    @Test
    void aRestartedControllerFinishesTheCopyWithoutASecondTask() {
        createSource(ns);
        simulators.holdCopies = true;
        startController();
        createCopy(ns, null);
        createTarget("fast");
        String uid = target().getMetadata().getUid();
        await("copy running", () -> copy().status() != null && "CloneInProgress".equals(copy().status().phase()));
        controller.close();
        controller = null;
        startController();
        simulators.holdCopies = false;
        assertCopied(ns);
        assertTrue(simulators.taskNamesSeen.contains(uid));
        assertEquals(1, simulators.tasksSeen.stream().filter(t -> true).count() - otherTasks(uid), "one CopyTask object for the copy");
    }

    private long otherTasks(String uid) {
        return simulators.taskNamesSeen.stream().filter(n -> !n.equals(uid)).count();
    }

    @Test
    void deletingTheTargetMidCopyCancelsAndCleansUp() {
        createSource(ns);
        simulators.holdCopies = true;
        startController();
        createCopy(ns, null);
        createTarget("fast");
        String uid = target().getMetadata().getUid();
        await("copy running", () -> copy().status() != null && "CloneInProgress".equals(copy().status().phase()));
        client.persistentVolumeClaims().inNamespace(ns).withName("disk0").delete();
        await("the target is gone", () -> target() == null);
        assertNothingLeft(ns, uid);
        assertTrue(client.persistentVolumes().list().getItems().stream().noneMatch(pv -> pv.getMetadata().getName().equals("pv-" + uid)));
    }

    static String summary(List<String> items) {
        return items.stream().collect(Collectors.joining(", "));
    }
}
