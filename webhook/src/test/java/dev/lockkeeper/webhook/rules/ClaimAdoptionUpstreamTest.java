package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code tests/adopt-volume_test.go} ("PVC adoption tests / with available PVC"): a retained PVC named
 * like the new DataVolume, no owner left, in the DataVolume's namespace. Each source kind must be admitted over it
 * with the DataVolume's {@code allowClaimAdoption: "true"} and the gate off ("with annotation on PVC"), and with the
 * {@code DataVolumeClaimAdoption} gate on and no annotation ("with featuregate enabled"); an explicit "false" with
 * the gate on is refused with "already exists". Upstream then waits for the DataVolume to succeed on the same
 * PVC UID: that is CDI's controller, not a webhook, so only admission is checked here.
 */
class ClaimAdoptionUpstreamTest {
    static final String NAMESPACE = DataVolumeApiValidationUpstreamTest.NAMESPACE;

    static final String RETAINED_PVC = """
            {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: testdv, namespace: %s, uid: retained-uid},
             spec: {accessModes: [ReadWriteOnce], storageClassName: standard, volumeMode: Filesystem, resources: {requests: {storage: 1Gi}}},
             status: {phase: Bound}}
            """.formatted(NAMESPACE);
    static final String GATE_ON = """
            {apiVersion: cdi.kubevirt.io/v1beta1, kind: CDIConfig, metadata: {name: config}, spec: {featureGates: [DataVolumeClaimAdoption]}}
            """;
    /** Upstream clones from {@code default/foo}; the test runs as a cluster admin, who may clone from there. */
    static final String CLONE_SOURCES = """
            {apiVersion: v1, kind: Namespace, metadata: {name: default}}
            ---
            {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: foo, namespace: default},
             spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}, status: {phase: Bound}}
            ---
            {apiVersion: snapshot.storage.k8s.io/v1, kind: VolumeSnapshot, metadata: {name: foo, namespace: default},
             spec: {source: {persistentVolumeClaimName: foo}}, status: {readyToUse: true, restoreSize: 1Gi}}
            """;

    static String dataVolume(String annotations, String spec) {
        return """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: testdv, namespace: %s%s}
                spec: %s
                """.formatted(NAMESPACE, annotations.isEmpty() ? "" : ", annotations: {" + annotations + "}", spec);
    }

    // utils.NewDataVolumeWithHTTPImport, NewDataVolumeForUpload, NewDataVolumeForImageCloning,
    // NewDataVolumeForSnapshotCloning, NewDataVolumeWithExternalPopulation
    static final String PVC_1GI = "pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}";

    static Stream<Arguments> sources() {
        return Stream.of(
                Arguments.of(
                        "with import source",
                        "{source: {http: {url: 'http://cdi-file-host.cdi/tinyCore.iso'}}, " + PVC_1GI + "}"),
                Arguments.of("with upload source", "{source: {upload: {}}, " + PVC_1GI + "}"),
                Arguments.of("with clone source", "{source: {pvc: {namespace: default, name: foo}}, " + PVC_1GI + "}"),
                Arguments.of(
                        "with snapshot clone source",
                        "{source: {snapshot: {namespace: default, name: foo}}, "
                                + "storage: {volumeMode: Filesystem, storageClassName: standard, resources: {requests: {storage: 1Gi}}}}"),
                Arguments.of(
                        "with populator source",
                        "{pvc: {accessModes: [ReadWriteOnce], storageClassName: standard, volumeMode: Filesystem,"
                                + " dataSourceRef: {kind: PersistentVolumeClaim, name: doesnotmatter}, resources: {requests: {storage: 1Gi}}}}"));
    }

    @ParameterizedTest(name = "with annotation on PVC: it should get adopted {0}")
    @MethodSource("sources")
    void theAnnotationAdoptsTheRetainedPvc(String upstreamCase, String spec) {
        JsonNode response = create(false, dataVolume("cdi.kubevirt.io/allowClaimAdoption: 'true'", spec));
        assertTrue(response.path("allowed").asBoolean(), upstreamCase + ": " + response);
    }

    @ParameterizedTest(name = "with featuregate enabled: it should get adopted {0}")
    @MethodSource("sources")
    void theFeatureGateAdoptsTheRetainedPvc(String upstreamCase, String spec) {
        JsonNode response = create(true, dataVolume("", spec));
        assertTrue(response.path("allowed").asBoolean(), upstreamCase + ": " + response);
    }

    /** The guard the rows above need: without annotation or gate, the retained PVC is not adopted. */
    @ParameterizedTest(name = "(Lockkeeper) neither annotation nor gate: {0} is refused")
    @MethodSource("sources")
    void withoutAnnotationOrGateTheRetainedPvcStopsIt(String upstreamCase, String spec) {
        JsonNode response = create(false, dataVolume("", spec));
        assertFalse(response.path("allowed").asBoolean(), upstreamCase + ": " + response);
        assertTrue(
                response.path("status")
                        .path("message")
                        .asText()
                        .contains("Destination PVC " + NAMESPACE + "/testdv already exists"),
                response.toString());
    }

    @Test
    void shouldNotBeAdoptedIfAnnotationSaysNotTo() {
        JsonNode response = create(
                true,
                dataVolume(
                        "cdi.kubevirt.io/allowClaimAdoption: 'false'",
                        "{source: {http: {url: 'http://cdi-file-host.cdi/tinyCore.iso'}}, " + PVC_1GI + "}"));
        assertFalse(response.path("allowed").asBoolean(), response.toString());
        assertTrue(response.path("status").path("message").asText().contains("already exists"), response.toString());
    }

    static JsonNode create(boolean gateOn, String dataVolumeYaml) {
        String objects = DataVolumeApiValidationUpstreamTest.namespace() + "\n---\n" + RETAINED_PVC + "---\n"
                + CLONE_SOURCES + (gateOn ? "---\n" + GATE_ON : "");
        ObjectNode dataVolume = TestCluster.yaml(dataVolumeYaml);
        return DataVolumeApiValidationUpstreamTest.review(
                TestCluster.with(objects), Operation.CREATE, dataVolume, null);
    }
}
