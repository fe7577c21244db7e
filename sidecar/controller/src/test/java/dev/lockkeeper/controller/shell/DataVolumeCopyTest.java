package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.TokenKeyFiles;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.cli.ControllerCommand;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
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
 * A DataVolume opted in to Lockkeeper's mover, end to end around the controller: the DataVolume as the webhook's
 * datavolume-clone-authorization and datavolume-data-mover leave it (clone token for a source in another namespace,
 * {@code lockkeeper.dev/copy-source}, {@code spec.storage.dataSourceRef} naming the VolumeCopy of its own name), its
 * PVC as CDI makes it ({@link CdiSimulator}), and the rest of the cluster from {@link Simulators}. Nobody but the
 * controller creates the VolumeCopy.
 */
class DataVolumeCopyTest {
    static KubernetesMockServer server;
    static KubernetesClient client;
    static Simulators simulators;
    static CdiSimulator cdi;

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
        cdi = new CdiSimulator(client);
        cdi.installCrd();
        simulators = new Simulators(client);
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
    void start(TestInfo test) {
        String tag = Integer.toHexString(test.getDisplayName().hashCode() & 0xffff);
        ns = "vms-" + tag;
        golden = "golden-" + tag;
        controller = new CopyController(client, Settings.DEFAULT, tokenCheck, Clock.systemUTC(), Duration.ofSeconds(2));
        controller.start();
    }

    @AfterEach
    void stopController() {
        if (controller != null) controller.close();
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
    }

    String createSource(String namespace) {
        client.resource(new PersistentVolumeClaimBuilder()
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
                        .build())
                .create();
        await("source bound", () -> bound(namespace, "win11"));
        return client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName("win11")
                .get()
                .getMetadata()
                .getUid();
    }

    String token(String sourceNamespace, String sourceName, String targetName) {
        return new CloneTokenSigner(webhookKeys.getPrivate(), Clock.fixed(Instant.now(), ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(
                        TokenResource.PERSISTENT_VOLUME_CLAIMS, sourceNamespace, sourceName, ns, targetName));
    }

    /** The DataVolume vm-disk as the webhook stores it, and the PVC CDI then makes for it. */
    PersistentVolumeClaim createDataVolume(String copySource, String token) {
        Map<String, String> annotations = new HashMap<>(
                Map.of("lockkeeper.dev/data-mover", "lockkeeper", "lockkeeper.dev/copy-source", copySource));
        if (token != null) annotations.put(Keys.CLONE_TOKEN, token);
        var dv = new GenericKubernetesResource();
        dv.setApiVersion("cdi.kubevirt.io/v1beta1");
        dv.setKind("DataVolume");
        dv.setMetadata(new ObjectMetaBuilder()
                .withName("vm-disk")
                .withNamespace(ns)
                .withAnnotations(annotations)
                .build());
        dv.setAdditionalProperty(
                "spec",
                Map.of(
                        "storage",
                        Map.of(
                                "accessModes", List.of("ReadWriteOnce"),
                                "storageClassName", "fast",
                                "resources", Map.of("requests", Map.of("storage", "1Gi")),
                                "dataSourceRef",
                                        Map.of(
                                                "apiGroup", "lockkeeper.dev",
                                                "kind", "VolumeCopy",
                                                "name", "vm-disk"))));
        cdi.create(dv);
        return cdi.createClaimFor(ns, "vm-disk");
    }

    String dataVolumeUid() {
        return client.genericKubernetesResources(CdiSimulator.DATA_VOLUMES)
                .inNamespace(ns)
                .withName("vm-disk")
                .get()
                .getMetadata()
                .getUid();
    }

    PersistentVolumeClaim target() {
        return client.persistentVolumeClaims()
                .inNamespace(ns)
                .withName("vm-disk")
                .get();
    }

    GenericKubernetesResource copyObject() {
        return client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(ns)
                .withName("vm-disk")
                .get();
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

    List<Event> events() {
        return client.v1().events().inNamespace(ns).list().getItems();
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition);
    }

    static void await(Supplier<String> what, BooleanSupplier condition) {
        Await.until(Duration.ofSeconds(30), Duration.ofMillis(25), what, condition);
    }

    void assertCopiedFor(String sourceNamespace, String authorizedReason) {
        await("target bound", () -> bound(ns, "vm-disk"));
        await(
                "clone succeeded",
                () -> "Succeeded".equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        await(
                "finalizer released",
                () -> !target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        Map<String, String> annotations = target().getMetadata().getAnnotations();
        assertEquals("copy", annotations.get(Keys.CLONE_TYPE));
        assertEquals("true", annotations.get(Keys.CLONE_OF));
        assertEquals("100.00%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertFalse(annotations.containsKey(Keys.CLONE_ERROR));

        VolumeCopy copy = Json.volumeCopy(copyObject());
        assertEquals(
                new VolumeCopy.PvcSource(sourceNamespace, "win11"),
                copy.spec().source().pvc());
        assertEquals("Succeeded", copy.status().phase());
        assertEquals("vm-disk", copy.status().claimRef().name());
        assertEquals(
                authorizedReason,
                copy.status().condition("Authorized").orElseThrow().reason());
        assertNull(copy.metadata().getAnnotations().get(Keys.CLONE_TOKEN), "the copy has no token of its own");
        var owner = copy.metadata().getOwnerReferences().getFirst();
        assertEquals(
                List.of("DataVolume", "vm-disk", dataVolumeUid(), true),
                List.of(owner.getKind(), owner.getName(), owner.getUid(), owner.getController()));
        String uid = target().getMetadata().getUid();
        await(
                () -> "nothing left: " + left(sourceNamespace, uid),
                () -> left(sourceNamespace, uid).isEmpty());
    }

    /** The holders, prime and task a copy makes; all gone once it is done or refused. */
    List<String> left(String sourceNamespace, String targetUid) {
        return Simulators.copyObjectsLeft(client, sourceNamespace, targetUid);
    }

    @Test
    void aSameNamespaceDataVolumeIsCopiedByAVolumeCopyItOwns() {
        createSource(ns);
        createDataVolume(ns + "/win11", null);
        assertCopiedFor(ns, "SameNamespace");
    }

    @Test
    void aCrossNamespaceDataVolumeIsCopiedOnTheStrengthOfItsOwnToken() {
        createSource(golden);
        createDataVolume(golden + "/win11", token(golden, "win11", "vm-disk"));
        assertCopiedFor(golden, "TokenVerified");
    }

    /**
     * A DataVolume whose token does not grant its copy-source to itself gets no VolumeCopy at all, and CDI's
     * CloneValidationFailed Event on its PVC; the claim stays Pending and nothing is made for it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"missing", "tampered", "for another DataVolume", "a copy-source forged after admission"})
    void aDataVolumeWithoutATokenForItsCopyGetsNone(String badToken) {
        String sourceUid = createSource(golden);
        createSource(ns); // what a forged copy-source might aim at instead; same-namespace sources need no token
        String answer = "invalid token";
        String copySource = golden + "/win11";
        String token;
        switch (badToken) {
            case "missing" -> {
                token = null;
                answer = "clone token missing";
            }
            case "tampered" -> {
                String[] parts = token(golden, "win11", "other-disk").split("\\.");
                String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace("\"other-disk\"", "\"vm-disk\"");
                token = parts[0] + "."
                        + Base64.getUrlEncoder()
                                .withoutPadding()
                                .encodeToString(claims.getBytes(StandardCharsets.UTF_8))
                        + "." + parts[2];
            }
            case "for another DataVolume" -> token = token(golden, "win11", "other-disk");
            case "a copy-source forged after admission" -> {
                // the token grants golden/win11; the annotation was edited to name another PVC there
                token = token(golden, "win11", "vm-disk");
                copySource = golden + "/secrets";
            }
            default -> throw new IllegalArgumentException(badToken);
        }
        String uid = createDataVolume(copySource, token).getMetadata().getUid();
        await("the event", () -> !events().isEmpty());
        var event = events().getFirst();
        assertEquals(
                List.of(
                        "Warning",
                        "CloneValidationFailed",
                        "The clone doesn't meet the validation requirements: " + answer,
                        uid),
                List.of(
                        event.getType(),
                        event.getReason(),
                        event.getMessage(),
                        event.getInvolvedObject().getUid()));
        assertNull(copyObject(), "no VolumeCopy for a DataVolume its token does not authorize");
        assertEquals(
                List.of(),
                simulators.created.stream()
                        .filter(c -> c.contains(uid) || c.contains(sourceUid))
                        .toList(),
                "nothing was made for a refused copy");
        assertEquals(List.of(), left(golden, uid));
        assertNull(target().getSpec().getVolumeName(), "the claim stays Pending");
        assertFalse(target().getMetadata().getFinalizers().contains(Keys.FINALIZER), "never initialised for a copy");
    }
}
