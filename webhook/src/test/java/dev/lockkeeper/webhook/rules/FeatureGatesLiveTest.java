package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionReviews;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.cluster.live.InformerClusterView;
import dev.lockkeeper.webhook.cluster.live.ResourceContexts;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.MockApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The feature gates the rules read from the cluster in live mode: CDI's {@code DataVolumeClaimAdoption} from the
 * CDIConfig {@code config} and KubeVirt's {@code OCIExport}/{@code Template} from the KubeVirt CR, through the informers
 * against fabric8's mock API server. Each test flips the gate on the API server and watches the decision follow it
 * without a restart (the embedded-mode tables are DataVolumeValidateUpstreamTest and VmExportUpstreamTest).
 */
class FeatureGatesLiveTest {
    KubernetesMockServer server;
    KubernetesClient client;
    InformerClusterView view;
    AdmissionService service;

    @BeforeEach
    void start() throws Exception {
        server = MockApiServer.startCrud();
        client = server.createClient();
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("team-a")
                        .endMetadata()
                        .build())
                .create();
        // The target PVC of the DataVolume below exists already and no DataVolume controls it.
        create(ResourceType.PERSISTENT_VOLUME_CLAIM, "team-a", """
                {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: test-dv, namespace: team-a},
                 spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeName: pv}}
                """);
        AtomicLong nanos = new AtomicLong();
        view = new InformerClusterView(
                        client,
                        Rulebook.WATCHED,
                        new SarSettings(Duration.ofSeconds(10), 100, Duration.ofSeconds(15)),
                        nanos::get,
                        InformerClusterView.DEFAULT_UNSERVED_RETRY)
                .start();
        await(view::synced, "informers must sync against the mock API server");
        service = Rulebook.service(
                view,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                RuleObserver.NONE,
                () -> Policy.DEFAULT);
    }

    @AfterEach
    void stop() {
        try {
            if (view != null) view.close();
            client.close();
        } finally {
            MockApiServer.destroy(server);
        }
    }

    @Test
    void claimAdoptionFollowsTheCdiConfigGate() throws Exception {
        // "should reject DataVolume when target pvc exists": no CDIConfig, no annotation
        JsonNode refused = review(dataVolumeReview());
        assertFalse(refused.path("allowed").asBoolean(), refused.toString());
        assertEquals(
                "Destination PVC team-a/test-dv already exists",
                refused.path("status").path("message").asText());
        // A gate on a CDIConfig other than "config" is not CDI's configuration.
        create(ResourceType.CDI_CONFIG, null, """
                {apiVersion: cdi.kubevirt.io/v1beta1, kind: CDIConfig, metadata: {name: other}, spec: {featureGates: [DataVolumeClaimAdoption]}}
                """);
        await(() -> view.get(ResourceType.CDI_CONFIG, "", "other").isPresent(), "the CDIConfig reaches the cache");
        assertFalse(review(dataVolumeReview()).path("allowed").asBoolean());
        // "should accept DataVolume with PVC and adoption featurgate set"
        create(ResourceType.CDI_CONFIG, null, """
                {apiVersion: cdi.kubevirt.io/v1beta1, kind: CDIConfig, metadata: {name: config}, spec: {featureGates: [DataVolumeClaimAdoption]}}
                """);
        await(
                () -> review(dataVolumeReview()).path("allowed").asBoolean(),
                "the gate on CDIConfig config lets CDI adopt the PVC");
        // The gate switched off again: refused again, from the watch event alone.
        client.genericKubernetesResources(ResourceContexts.of(ResourceType.CDI_CONFIG))
                .withName("config")
                .delete();
        await(() -> !review(dataVolumeReview()).path("allowed").asBoolean(), "a deleted CDIConfig turns the gate off");
    }

    @Test
    void templateExportsFollowTheKubeVirtCrGates() throws Exception {
        String message =
                "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled";
        // "should reject VMTemplate source when required feature gates are missing": Entry "no feature gates"
        JsonNode refused = review(templateExportReview());
        assertFalse(refused.path("allowed").asBoolean(), refused.toString());
        assertTrue(refused.toString().contains(message), refused.toString());
        // Entry "only Template": Template is Beta (on by default), OCIExport Alpha (off unless listed)
        create(ResourceType.KUBEVIRT, "kubevirt", """
                {apiVersion: kubevirt.io/v1, kind: KubeVirt, metadata: {name: kubevirt, namespace: kubevirt},
                 spec: {configuration: {developerConfiguration: {featureGates: [Template]}}}}
                """);
        await(() -> !view.list(ResourceType.KUBEVIRT, null).isEmpty(), "the KubeVirt CR reaches the cache");
        assertFalse(review(templateExportReview()).path("allowed").asBoolean());
        // "should accept valid VMTemplate source when both gates enabled"
        var kubevirts = client.genericKubernetesResources(ResourceContexts.of(ResourceType.KUBEVIRT))
                .inNamespace("kubevirt");
        GenericKubernetesResource kubevirt = kubevirts.withName("kubevirt").get();
        kubevirt.setAdditionalProperty(
                "spec",
                Json.MAPPER.convertValue(
                        Json.YAML.readTree(
                                "{configuration: {developerConfiguration: {featureGates: [Template, OCIExport]}}}"),
                        java.util.Map.class));
        kubevirts.resource(kubevirt).update();
        await(
                () -> review(templateExportReview()).path("allowed").asBoolean(),
                "both gates on the KubeVirt CR allow the template export");
        // virt-template deployment disabled in the CR: refused with the same cause
        kubevirt = kubevirts.withName("kubevirt").get();
        kubevirt.setAdditionalProperty(
                "spec",
                Json.MAPPER.convertValue(
                        Json.YAML.readTree(
                                "{configuration: {developerConfiguration: {featureGates: [Template, OCIExport]}, virtTemplateDeployment: {enabled: false}}}"),
                        java.util.Map.class));
        kubevirts.resource(kubevirt).update();
        await(
                () -> review(templateExportReview()).toString().contains(message),
                "virtTemplateDeployment.enabled false turns the source off");
    }

    void create(ResourceType type, String namespace, String yaml) throws Exception {
        GenericKubernetesResource object =
                Json.MAPPER.treeToValue(Json.YAML.readTree(yaml), GenericKubernetesResource.class);
        var resources = client.genericKubernetesResources(ResourceContexts.of(type));
        (namespace == null
                        ? resources.resource(object)
                        : resources.inNamespace(namespace).resource(object))
                .create();
    }

    JsonNode review(String yaml) {
        try {
            return service.reviewEndToEnd(AdmissionReviews.parse(Json.YAML.readTree(yaml)))
                    .path("response");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String dataVolumeReview() {
        return """
                {apiVersion: admission.k8s.io/v1, kind: AdmissionReview, request: {uid: dv1,
                 kind: {group: cdi.kubevirt.io, version: v1beta1, kind: DataVolume},
                 resource: {group: cdi.kubevirt.io, version: v1beta1, resource: datavolumes}, operation: CREATE, namespace: team-a, name: test-dv,
                 userInfo: {username: carol}, object: {apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume,
                 metadata: {name: test-dv, namespace: team-a},
                 spec: {source: {http: {url: 'http://www.example.com'}},
                        pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}}}}
                """;
    }

    static String templateExportReview() {
        return """
                {apiVersion: admission.k8s.io/v1, kind: AdmissionReview, request: {uid: e1,
                 kind: {group: export.kubevirt.io, version: v1beta1, kind: VirtualMachineExport},
                 resource: {group: export.kubevirt.io, version: v1beta1, resource: virtualmachineexports}, operation: CREATE,
                 namespace: team-a, name: exp, userInfo: {username: carol}, object: {metadata: {name: exp, namespace: team-a},
                 spec: {source: {apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: test-template}}}}}
                """;
    }

    /** Polls with short sleeps: watch events arrive asynchronously; no timing is asserted, only the eventual state. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 1200 && !condition.getAsBoolean(); i++) Thread.sleep(25);
        assertTrue(condition.getAsBoolean(), what);
    }
}
