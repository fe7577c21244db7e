package dev.lockkeeper.webhook.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.cluster.live.InformerClusterView;
import dev.lockkeeper.webhook.cluster.live.ResourceContexts;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.cluster.live.SecretTokenKey;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.support.MockApiServer;
import dev.lockkeeper.webhook.support.Reviews;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Live mode against fabric8's mock API server: CRUD state through informers, SARs through expectations. */
class InformerClusterViewTest {
    static final String SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    static final ResourceDefinitionContext DATA_SOURCES = ResourceContexts.of(ResourceType.DATA_SOURCE);
    /** A 10 s cache; the answer deadline is generous because the mock answers slowly on a loaded machine. */
    static final SarSettings ANSWERED_SARS = new SarSettings(Duration.ofSeconds(10), 100, Duration.ofSeconds(15));

    KubernetesMockServer server;
    KubernetesClient client;
    InformerClusterView view;
    final List<JsonNode> sarBodies = new CopyOnWriteArrayList<>();

    @BeforeEach
    void seedCluster() {
        server = MockApiServer.startCrud();
        client = server.createClient();
        for (String ns : List.of("golden-images", "team-a")) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(ns)
                            .endMetadata()
                            .build())
                    .create();
        }
        client.persistentVolumeClaims()
                .inNamespace("golden-images")
                .resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName("fedora-40")
                        .endMetadata()
                        .withNewSpec()
                        .withNewResources()
                        .addToRequests("storage", new Quantity("10Gi"))
                        .endResources()
                        .endSpec()
                        .build())
                .create();
        GenericKubernetesResource dataSource = new GenericKubernetesResource();
        dataSource.setApiVersion("cdi.kubevirt.io/v1beta1");
        dataSource.setKind("DataSource");
        dataSource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName("fedora")
                .withNamespace("golden-images")
                .build());
        dataSource.setAdditionalProperty(
                "spec", Map.of("source", Map.of("pvc", Map.of("namespace", "golden-images", "name", "fedora-40"))));
        client.genericKubernetesResources(DATA_SOURCES)
                .inNamespace("golden-images")
                .resource(dataSource)
                .create();
        // Grants datavolumes/source to alice only; records every SAR body sent.
        server.expect()
                .post()
                .withPath(SAR_PATH)
                .andReply(201, request -> {
                    JsonNode body = readJson(request);
                    sarBodies.add(body);
                    boolean allowed =
                            "alice".equals(body.path("spec").path("user").asText())
                                    && "source"
                                            .equals(body.path("spec")
                                                    .path("resourceAttributes")
                                                    .path("subresource")
                                                    .asText());
                    return Map.of(
                            "apiVersion",
                            "authorization.k8s.io/v1",
                            "kind",
                            "SubjectAccessReview",
                            "spec",
                            body.path("spec"),
                            "status",
                            Map.of("allowed", allowed));
                })
                .always();
    }

    @AfterEach
    void stop() {
        try {
            if (view != null) view.close();
            // Open watch connections would otherwise keep the mock server from shutting down in time.
            client.close();
        } finally {
            MockApiServer.destroy(server);
        }
    }

    /** The caches' clock: tests step it instead of sleeping, so a loaded machine cannot make them flaky. */
    final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();

    InformerClusterView startView(SarSettings sar) throws InterruptedException {
        return startView(sar, InformerClusterView.DEFAULT_UNSERVED_RETRY);
    }

    InformerClusterView startView(SarSettings sar, Duration unservedRetry) throws InterruptedException {
        view = new InformerClusterView(client, Rulebook.WATCHED, sar, nanos::get, unservedRetry).start();
        for (int i = 0; i < 1200 && !view.synced(); i++) Thread.sleep(25);
        assertTrue(view.synced(), "informers must sync against the mock API server");
        return view;
    }

    @Test
    void informersServeObjectsAndFollowChanges() throws Exception {
        startView(ANSWERED_SARS);
        assertTrue(view.get(ResourceType.PERSISTENT_VOLUME_CLAIM, "golden-images", "fedora-40")
                .isPresent());
        assertTrue(view.get(ResourceType.NAMESPACE, "", "team-a").isPresent());
        assertEquals(
                "fedora-40",
                Json.text(
                        view.get(ResourceType.DATA_SOURCE, "golden-images", "fedora")
                                .orElseThrow(),
                        "spec",
                        "source",
                        "pvc",
                        "name"));
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("late")
                        .endMetadata()
                        .build())
                .create();
        for (int i = 0; i < 1200 && view.get(ResourceType.NAMESPACE, "", "late").isEmpty(); i++) Thread.sleep(25);
        assertTrue(view.get(ResourceType.NAMESPACE, "", "late").isPresent(), "watch events reach the cache");
        assertEquals(
                1,
                view.list(ResourceType.PERSISTENT_VOLUME_CLAIM, "golden-images").size());
    }

    @Test
    void cloneDecisionsUseTheLiveViewAndSendExactSubjectAccessReviews() throws Exception {
        startView(ANSWERED_SARS);
        AdmissionService service = Rulebook.service(
                view,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                RuleObserver.NONE,
                () -> dev.lockkeeper.webhook.policy.Policy.DEFAULT);
        String dataVolume = """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: disk, namespace: team-a}
                spec: {sourceRef: {kind: DataSource, namespace: golden-images, name: fedora}, storage: {}}
                """;
        JsonNode allowed = service.reviewEndToEnd(Reviews.createDataVolume("team-a", dataVolume))
                .path("response");
        assertTrue(allowed.path("allowed").asBoolean());
        assertEquals("JSONPatch", allowed.path("patchType").asText());
        assertEquals(1, sarBodies.size());
        assertEquals(Json.YAML.readTree("""
                user: alice
                groups: [developers, "system:authenticated"]
                extra: {scopes: [clone]}
                resourceAttributes: {namespace: golden-images, verb: create, group: cdi.kubevirt.io, resource: datavolumes,
                                     subresource: source, name: fedora-40}
                """), sarBodies.getFirst().path("spec"));

        var bob = new dev.lockkeeper.webhook.admission.UserInfo("bob", "", List.of("system:authenticated"), Map.of());
        var request = Reviews.dataVolume(
                dev.lockkeeper.webhook.admission.Operation.CREATE,
                "team-a",
                dev.lockkeeper.webhook.support.TestCluster.yaml(dataVolume),
                null,
                bob);
        JsonNode denied = service.reviewEndToEnd(request).path("response");
        assertFalse(denied.path("allowed").asBoolean());
        assertEquals(403, denied.path("status").path("code").asInt());
        assertEquals(3, sarBodies.size(), "bob: datavolumes/source, then pods");
        assertEquals(Json.YAML.readTree("""
                {namespace: golden-images, verb: create, resource: pods, name: fedora-40}
                """), sarBodies.get(2).path("spec").path("resourceAttributes"));
    }

    static GenericKubernetesResource generic(String yaml) throws Exception {
        return Json.MAPPER.treeToValue(Json.YAML.readTree(yaml), GenericKubernetesResource.class);
    }

    @Test
    void exportRulesDecideFromIndexedInformers() throws Exception {
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.VIRTUAL_MACHINE_EXPORT))
                .inNamespace("team-a")
                .resource(generic("""
                {apiVersion: export.kubevirt.io/v1beta1, kind: VirtualMachineExport, metadata: {name: web-export, namespace: team-a},
                 spec: {source: {apiGroup: kubevirt.io, kind: VirtualMachine, name: web}}, status: {phase: Ready}}
                """))
                .create();
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.VIRTUAL_MACHINE))
                .inNamespace("team-a")
                .resource(generic("""
                {apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: team-a},
                 spec: {runStrategy: Halted, template: {spec: {volumes: [{name: root, dataVolume: {name: web-root}}]}}}}
                """))
                .create();
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.POD))
                .inNamespace("team-a")
                .resource(generic("""
                {apiVersion: v1, kind: Pod, metadata: {name: app, namespace: team-a},
                 spec: {containers: [{name: c, image: x}], volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}]}, status: {phase: Running}}
                """))
                .create();
        startView(ANSWERED_SARS);
        assertEquals(
                1,
                view.byIndex(dev.lockkeeper.webhook.cluster.ClusterIndex.POD_CLAIMS, "team-a/shared")
                        .size());
        assertEquals(
                1,
                view.byIndex(dev.lockkeeper.webhook.cluster.ClusterIndex.VM_CLAIMS, "team-a/web-root")
                        .size());
        AdmissionService service = Rulebook.service(
                view,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                RuleObserver.NONE,
                () -> dev.lockkeeper.webhook.policy.Policy.DEFAULT);
        var pod = Json.YAML.readTree("""
                {apiVersion: admission.k8s.io/v1, kind: AdmissionReview, request: {uid: p1, kind: {group: '', version: v1, kind: Pod},
                 resource: {group: '', version: v1, resource: pods}, operation: CREATE, namespace: team-a, name: reader,
                 userInfo: {username: carol}, object: {apiVersion: v1, kind: Pod, metadata: {name: reader, namespace: team-a},
                 spec: {volumes: [{name: d, persistentVolumeClaim: {claimName: web-root}}]}}}}
                """);
        JsonNode refused = service.reviewEndToEnd(dev.lockkeeper.webhook.admission.AdmissionReviews.parse(pod))
                .path("response");
        assertFalse(refused.path("allowed").asBoolean(), refused.toString());
        assertTrue(refused.path("status")
                .path("message")
                .asText()
                .contains("VirtualMachineExport team-a/web-export (Ready)"));
        var export = Json.YAML.readTree("""
                {apiVersion: admission.k8s.io/v1, kind: AdmissionReview, request: {uid: e1, kind: {group: export.kubevirt.io, version: v1, kind: VirtualMachineExport},
                 resource: {group: export.kubevirt.io, version: v1, resource: virtualmachineexports}, operation: CREATE, namespace: team-a, name: pvc-export,
                 userInfo: {username: carol}, object: {metadata: {name: pvc-export, namespace: team-a},
                 spec: {source: {kind: PersistentVolumeClaim, name: shared}}}}}
                """);
        JsonNode busy = service.reviewEndToEnd(dev.lockkeeper.webhook.admission.AdmissionReviews.parse(export))
                .path("response");
        assertTrue(
                busy.path("status")
                        .path("message")
                        .asText()
                        .startsWith("PersistentVolumeClaim team-a/shared is in use by pod team-a/app"),
                busy.toString());
    }

    @Test
    void podsAreKeptSlimAndTheirClaimIndexFollowsUpdatesAndDeletes() throws Exception {
        var pods = client.genericKubernetesResources(ResourceContexts.of(ResourceType.POD))
                .inNamespace("team-a");
        pods.resource(generic("""
                {apiVersion: v1, kind: Pod, metadata: {name: app, namespace: team-a, labels: {app: web}},
                 spec: {containers: [{name: c, image: x, env: [{name: A, value: b}]}],
                        volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}, {name: cfg, configMap: {name: settings}}]},
                 status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}
                """)).create();
        startView(ANSWERED_SARS);
        JsonNode kept = view.get(ResourceType.POD, "team-a", "app").orElseThrow();
        assertEquals(Json.YAML.readTree("""
                {apiVersion: v1, kind: Pod, metadata: {name: app, namespace: team-a},
                 spec: {volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}]}, status: {phase: Running}}
                """), stripServerFields(kept));
        assertEquals(1, view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/shared").size());

        var running = pods.withName("app").get();
        running.setAdditionalProperty(
                "spec",
                Map.of(
                        "containers",
                        List.of(Map.of("name", "c", "image", "x")),
                        "volumes",
                        List.of(Map.of("name", "d", "persistentVolumeClaim", Map.of("claimName", "other")))));
        pods.resource(running).update();
        for (int i = 0;
                i < 1200
                        && view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/other").isEmpty();
                i++) Thread.sleep(25);
        assertEquals(1, view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/other").size());
        assertTrue(
                view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/shared").isEmpty(),
                "the slim old copy drops its index entry");

        pods.withName("app").delete();
        for (int i = 0; i < 1200 && view.get(ResourceType.POD, "team-a", "app").isPresent(); i++) Thread.sleep(25);
        assertTrue(view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/other").isEmpty());
    }

    /** The mock API server adds uid, resourceVersion and timestamps; what the test compares is the rest. */
    private static JsonNode stripServerFields(JsonNode pod) {
        var copy = pod.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) copy.path("metadata"))
                .remove(List.of("uid", "resourceVersion", "creationTimestamp", "generation"));
        return copy;
    }

    @Test
    void resourcesTheClusterDoesNotServeCountAsEmptyAndDoNotBlockReadiness() throws Exception {
        server.expect()
                .get()
                .withPath("/apis/export.kubevirt.io/v1beta1/virtualmachineexports?resourceVersion=0")
                .andReturn(404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}")
                .always();
        server.expect()
                .get()
                .withPath("/apis/export.kubevirt.io/v1beta1/virtualmachineexports")
                .andReturn(404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}")
                .always();
        startView(ANSWERED_SARS);
        assertTrue(view.list(ResourceType.VIRTUAL_MACHINE_EXPORT, "team-a").isEmpty());
        assertTrue(view.byIndex(dev.lockkeeper.webhook.cluster.ClusterIndex.EXPORT_SOURCES, "team-a/VirtualMachine/web")
                .isEmpty());
        assertTrue(
                view.get(ResourceType.PERSISTENT_VOLUME_CLAIM, "golden-images", "fedora-40")
                        .isPresent(),
                "the rest still works");
    }

    @Test
    void aKindInstalledAfterStartIsPickedUpWithoutRestart() throws Exception {
        // The first two lists of exports answer 404 (CRD not installed yet); after that the CRUD store serves them.
        for (String path : List.of(
                "/apis/export.kubevirt.io/v1beta1/virtualmachineexports?resourceVersion=0",
                "/apis/export.kubevirt.io/v1beta1/virtualmachineexports")) {
            server.expect()
                    .get()
                    .withPath(path)
                    .andReturn(404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}")
                    .once();
        }
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.VIRTUAL_MACHINE_EXPORT))
                .inNamespace("team-a")
                .resource(generic("""
                {apiVersion: export.kubevirt.io/v1beta1, kind: VirtualMachineExport, metadata: {name: web-export, namespace: team-a},
                 spec: {source: {apiGroup: kubevirt.io, kind: VirtualMachine, name: web}}, status: {phase: Ready}}
                """))
                .create();
        startView(ANSWERED_SARS, Duration.ofMillis(100));
        for (int i = 0;
                i < 1200
                        && view.list(ResourceType.VIRTUAL_MACHINE_EXPORT, "team-a")
                                .isEmpty();
                i++) {
            assertTrue(view.synced(), "readiness does not wait for a kind the cluster does not serve");
            Thread.sleep(25);
        }
        assertEquals(
                1,
                view.byIndex(ClusterIndex.EXPORT_SOURCES, "team-a/VirtualMachine/web")
                        .size(),
                "the export the first list could not see is found once the kind is served, indexes included");
        assertTrue(view.synced());
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.VIRTUAL_MACHINE_EXPORT))
                .inNamespace("team-a")
                .resource(generic("""
                {apiVersion: export.kubevirt.io/v1beta1, kind: VirtualMachineExport, metadata: {name: db-export, namespace: team-a},
                 spec: {source: {kind: PersistentVolumeClaim, name: db}}}
                """))
                .create();
        for (int i = 0;
                i < 1200
                        && view.list(ResourceType.VIRTUAL_MACHINE_EXPORT, "team-a")
                                        .size()
                                < 2;
                i++) Thread.sleep(25);
        assertEquals(
                2, view.list(ResourceType.VIRTUAL_MACHINE_EXPORT, "team-a").size(), "and it is watched from then on");
    }

    @Test
    void secretsAreReadDirectlyNotWatchedAndCachedBriefly() throws Exception {
        client.secrets()
                .inNamespace("team-a")
                .resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
                        .withNewMetadata()
                        .withName("export-token")
                        .endMetadata()
                        .addToData(
                                "token",
                                java.util.Base64.getEncoder()
                                        .encodeToString("Zq81kLmP02xYvB7r".getBytes(StandardCharsets.UTF_8)))
                        .build())
                .create();
        startView(ANSWERED_SARS);
        secretGets();
        assertTrue(view.read(ResourceType.SECRET, "team-a", "export-token").isPresent());
        assertTrue(view.read(ResourceType.SECRET, "team-a", "export-token").isPresent());
        assertTrue(view.read(ResourceType.SECRET, "team-a", "missing").isEmpty());
        assertTrue(view.read(ResourceType.SECRET, "team-a", "missing").isEmpty());
        assertEquals(
                List.of("/api/v1/namespaces/team-a/secrets/export-token", "/api/v1/namespaces/team-a/secrets/missing"),
                secretGets(),
                "one GET per Secret, answers (even not-found) cached");
        nanos.addAndGet(Duration.ofSeconds(11).toNanos());
        view.read(ResourceType.SECRET, "team-a", "export-token");
        assertEquals(
                List.of("/api/v1/namespaces/team-a/secrets/export-token"),
                secretGets(),
                "expired entries are fetched again");
    }

    /** Secret requests the mock server received since the last call; informer traffic is skipped. */
    private List<String> secretGets() throws InterruptedException {
        List<String> paths = new ArrayList<>();
        for (RecordedRequest request = server.takeRequest(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                request != null;
                request = server.takeRequest(50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            if (request.getPath().contains("/secrets")) paths.add(request.getMethod() + " " + request.getPath());
        }
        return paths.stream()
                .filter(p -> p.startsWith("GET "))
                .map(p -> p.substring(4))
                .toList();
    }

    @Test
    void subjectAccessReviewAnswersAreCachedBriefly() throws Exception {
        startView(ANSWERED_SARS);
        AccessReview review = new AccessReview(
                "alice",
                List.of(),
                Map.of(),
                "golden-images",
                "create",
                "cdi.kubevirt.io",
                "datavolumes",
                "source",
                "fedora-40");
        assertInstanceOf(AccessDecision.Allowed.class, view.review(review));
        assertInstanceOf(AccessDecision.Allowed.class, view.review(review));
        assertEquals(1, sarBodies.size(), "second identical review is served from the cache");
        nanos.addAndGet(Duration.ofSeconds(11).toNanos());
        view.review(review);
        assertEquals(2, sarBodies.size(), "expired entries are asked again");
    }

    @Test
    void apiServerErrorsMakeAuthorizationUnavailable() throws Exception {
        var errorServer = new KubernetesMockServer(false);
        errorServer.init();
        errorServer
                .expect()
                .post()
                .withPath(SAR_PATH)
                .andReturn(500, "{\"kind\":\"Status\",\"message\":\"etcd down\"}")
                .always();
        // No client-side retries: the 500 itself must come back, not the deadline.
        Config noRetries = new ConfigBuilder(errorServer.createClient().getConfiguration())
                .withRequestRetryBackoffLimit(0)
                .build();
        try (KubernetesClient broken =
                new KubernetesClientBuilder().withConfig(noRetries).build()) {
            var reviewer = new dev.lockkeeper.webhook.cluster.live.CachingAccessReviewer(broken, ANSWERED_SARS);
            var review = new AccessReview("alice", List.of(), Map.of(), "x", "create", "", "pods", "", "p");
            var unavailable = assertInstanceOf(AccessDecision.Unavailable.class, reviewer.review(review));
            assertEquals("API server answered 500: etcd down", unavailable.error());
        } finally {
            errorServer.destroy();
        }
    }

    @Test
    void unansweredSubjectAccessReviewTimesOut() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) held.add(silent.accept());
                } catch (Exception ignored) {
                    // closed at the end of the test
                }
            });
            Config config = new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + silent.getLocalPort())
                    .withRequestRetryBackoffLimit(0)
                    .build();
            try (KubernetesClient hanging =
                    new KubernetesClientBuilder().withConfig(config).build()) {
                var reviewer = new dev.lockkeeper.webhook.cluster.live.CachingAccessReviewer(
                        hanging, new SarSettings(Duration.ofSeconds(10), 100, Duration.ofMillis(300)));
                var decision = reviewer.review(
                        new AccessReview("alice", List.of(), Map.of(), "x", "create", "", "pods", "", "p"));
                var unavailable = assertInstanceOf(AccessDecision.Unavailable.class, decision);
                assertEquals("timed out after 300 ms", unavailable.error());
            }
            acceptor.interrupt();
        } finally {
            for (Socket socket : held) socket.close();
        }
    }

    @Test
    void cloneTokenKeyIsCreatedOnceInItsSecretAndReused() {
        var first = SecretTokenKey.loadOrCreate(client, "lockkeeper", "lockkeeper-clone-token");
        var second = SecretTokenKey.loadOrCreate(client, "lockkeeper", "lockkeeper-clone-token");
        assertArrayEquals(first.getPublic().getEncoded(), second.getPublic().getEncoded());
        assertNotNull(client.secrets()
                .inNamespace("lockkeeper")
                .withName("lockkeeper-clone-token")
                .get()
                .getData()
                .get("public.key"));
    }

    private static JsonNode readJson(RecordedRequest request) {
        try {
            return Json.MAPPER.readTree(request.getBody().readString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
