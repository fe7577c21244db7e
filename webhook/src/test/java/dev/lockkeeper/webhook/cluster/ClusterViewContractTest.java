package dev.lockkeeper.webhook.cluster;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.cluster.live.InformerClusterView;
import dev.lockkeeper.webhook.cluster.live.ResourceContexts;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.support.MockApiServer;
import dev.lockkeeper.webhook.support.TestCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One cluster-view contract: the live view (informers over fabric8's mock API server), the manifest
 * view (embedded mode) and the rule tests' view give the same answer, or the same refusal, for the
 * same call on every kind a rule may look up.
 */
class ClusterViewContractTest {
    static final String SEED = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: golden-images}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: team-b}}
            - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: team-a}, spec: {}}
            - {apiVersion: v1, kind: Secret, metadata: {name: token, namespace: team-a}, data: {}}
            - apiVersion: lockkeeper.dev/v1alpha1
              kind: VolumeCopy
              metadata: {name: data, namespace: team-a}
              spec: {source: {pvc: {namespace: golden-images, name: fedora-40}}}
            """;

    static KubernetesMockServer server;
    static KubernetesClient client;
    static InformerClusterView live;

    @BeforeAll
    static void startLive() throws Exception {
        server = MockApiServer.startCrud();
        client = server.createClient();
        for (String ns : List.of("golden-images", "team-a", "team-b")) {
            client.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(ns)
                            .endMetadata()
                            .build())
                    .create();
        }
        client.persistentVolumeClaims()
                .inNamespace("team-a")
                .resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName("data")
                        .endMetadata()
                        .withNewSpec()
                        .endSpec()
                        .build())
                .create();
        client.secrets()
                .inNamespace("team-a")
                .resource(new SecretBuilder()
                        .withNewMetadata()
                        .withName("token")
                        .endMetadata()
                        .build())
                .create();
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.VOLUME_COPY))
                .inNamespace("team-a")
                .resource(Serialization.unmarshal("""
                        {"apiVersion": "lockkeeper.dev/v1alpha1", "kind": "VolumeCopy",
                         "metadata": {"name": "data", "namespace": "team-a"},
                         "spec": {"source": {"pvc": {"namespace": "golden-images", "name": "fedora-40"}}}}
                        """, GenericKubernetesResource.class))
                .create();
        live = new InformerClusterView(
                        client, Rulebook.WATCHED, new SarSettings(Duration.ofSeconds(10), 100, Duration.ofSeconds(15)))
                .start();
        for (int i = 0; i < 1200 && !live.synced(); i++) Thread.sleep(25);
        assertTrue(live.synced(), "informers must sync against the mock API server");
    }

    @AfterAll
    static void stopLive() {
        try {
            live.close();
            client.close();
        } finally {
            MockApiServer.destroy(server);
        }
    }

    Map<String, ClusterView> views() {
        return Map.of(
                "live",
                live,
                "manifest",
                new ManifestClusterView(
                        Manifests.read("seed", new ByteArrayInputStream(SEED.getBytes(StandardCharsets.UTF_8)))),
                "test",
                TestCluster.with(SEED));
    }

    /** What a call did: "present", "absent", a count, or the refusal's message. */
    static String outcome(Supplier<Object> call) {
        try {
            Object answer = call.get();
            if (answer instanceof Optional<?> found) return found.isPresent() ? "present" : "absent";
            return "list of " + ((List<?>) answer).size();
        } catch (IllegalArgumentException refused) {
            return "refused: " + refused.getMessage();
        }
    }

    static List<String> outcomes(ClusterView view) {
        List<String> outcomes = new ArrayList<>();
        for (ResourceType type : ResourceType.ALL) {
            String namespace = type.namespaced() ? "team-a" : "";
            String name = type.equals(ResourceType.NAMESPACE)
                    ? "team-a"
                    : type.equals(ResourceType.SECRET) ? "token" : "data";
            outcomes.add(type + " get: " + outcome(() -> view.get(type, namespace, name)));
            outcomes.add(type + " list: " + outcome(() -> view.list(type, type.namespaced() ? "team-a" : null)));
            outcomes.add(type + " read: " + outcome(() -> view.read(type, namespace, name)));
        }
        outcomes.add("pods by claim: " + outcome(() -> view.byIndex(ClusterIndex.POD_CLAIMS, "team-a/data")));
        outcomes.add("copies by source: "
                + outcome(() -> view.byIndex(ClusterIndex.COPY_SOURCES, "golden-images/fedora-40")));
        return outcomes;
    }

    @Test
    void everyViewAnswersOrRefusesTheSameCallTheSameWay() {
        Map<String, ClusterView> views = views();
        List<String> expected = outcomes(views.get("live"));
        for (var view : views.entrySet()) assertEquals(expected, outcomes(view.getValue()), view.getKey());

        assertTrue(expected.contains("persistentvolumeclaims get: present"), expected.toString());
        assertTrue(expected.contains("secrets read: present"), expected.toString());
        assertTrue(expected.contains("copies by source: list of 1"), expected.toString());
        assertTrue(
                expected.contains(
                        "secrets get: refused: secrets is read directly (one GET, never watched): look it up with read(), not get()"),
                expected.toString());
        assertTrue(
                expected.contains("persistentvolumeclaims read: refused: persistentvolumeclaims is informer-backed: "
                        + "look it up with get(), list() or byIndex(), not read()"),
                expected.toString());
    }

    @Test
    void theInformersAreExactlyTheInformerBackedKinds() {
        assertEquals(
                java.util.Set.copyOf(ResourceType.ALL.stream()
                        .filter(type -> type.access() == ResourceType.Access.INFORMER)
                        .toList()),
                java.util.Set.copyOf(Rulebook.WATCHED));
    }
}
