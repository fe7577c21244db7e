package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link RestorePvcPopulatedFor} and {@link RestorePvcUnfinishedRefusal}: a restored PVC and its DataVolume. */
class RestoredPvcRulesTest {
    static final String DATA_VOLUME_IN_CLUSTER = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: web-root, namespace: team-a}
            spec: {source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}
            """;

    /** The PVC CDI created for DataVolume web-root, as backed up after the import finished. */
    static String pvc(String extraMetadata) {
        return """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata:
                  name: web-root
                  namespace: team-a
                  uid: 5a9e7c4f-0000-4000-8000-000000000010
                  resourceVersion: "8123"
                  labels: {app: containerized-data-importer}
                %s
                spec:
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: 10Gi}}
                  volumeName: pvc-5a9e7c4f
                status: {phase: Bound, capacity: {storage: 10Gi}}
                """.formatted(extraMetadata.indent(2).stripTrailing());
    }

    static final String CREATED_FOR =
            "annotations: {cdi.kubevirt.io/createdForDataVolume: 0b7c1d2e-0000-4000-8000-000000000001, "
                    + "cdi.kubevirt.io/storage.pod.phase: Succeeded}";
    static final String OWNED_BY_OTHER_NAME =
            "ownerReferences: [{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, name: other-dv, uid: x}]";

    static Stream<Arguments> ownershipEvidence() {
        return Stream.of(
                Arguments.of(
                        "ownerReference kept by a tool that does not strip it",
                        TestCluster.with(),
                        TestCluster.yaml(pvc(OWNED_BY_OTHER_NAME)),
                        "other-dv"),
                Arguments.of(
                        "CDI's createdForDataVolume annotation",
                        TestCluster.with(),
                        created(pvc(CREATED_FOR)),
                        "web-root"),
                Arguments.of(
                        "a DataVolume of the same name in the cluster",
                        TestCluster.with(DATA_VOLUME_IN_CLUSTER),
                        created(pvc("")),
                        "web-root"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ownershipEvidence")
    void pvcOfADataVolumeIsMarkedPopulatedForIt(
            String evidence, TestCluster cluster, ObjectNode backedUp, String dataVolume) {
        ObjectNode restoredPvc = backedUp.deepCopy();
        restoredPvc.withObject("/metadata/labels").put(RestoreKeys.VELERO_RESTORE_NAME, "plain");
        AdmissionRequest request = create(restoredPvc);
        Decision decision = mutate(cluster, request);
        assertTrue(decision.allowed());
        assertEquals(
                dataVolume,
                patched(request, decision)
                        .path("metadata")
                        .path("annotations")
                        .path("cdi.kubevirt.io/storage.populatedFor")
                        .asText());
        assertEquals(1, decision.patch().size(), decision.patch().toString());
        assertNull(reinvoked(cluster, request, decision).patch(), "reinvocation must not patch again");
        assertTrue(validate(cluster, create(patched(request, decision))).allowed());
    }

    @Test
    void exactPatchAddsOneAnnotationAndKeepsCdisOwn() {
        Decision decision = mutate(TestCluster.with(), create(restored(pvc(CREATED_FOR), "plain")));
        assertEquals(
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations/cdi.kubevirt.io~1storage.populatedFor\",\"value\":\"web-root\"}]",
                decision.patch().toString());
    }

    @Test
    void anExistingPopulatedForIsKept() {
        ObjectNode restoredPvc =
                restored(pvc("annotations: {cdi.kubevirt.io/storage.populatedFor: chosen-by-the-plugin}"), "plain");
        assertNull(mutate(TestCluster.with(DATA_VOLUME_IN_CLUSTER), create(restoredPvc))
                .patch());
    }

    @Test
    void aPvcOfNoDataVolumeIsLeftAlone() {
        Decision decision = mutate(TestCluster.with(), create(restored(pvc(""), "plain")));
        assertNull(decision.patch());
        assertTrue(
                validate(
                                TestCluster.with(),
                                create(restored(
                                        pvc("annotations: {cdi.kubevirt.io/storage.pod.phase: Running}"), "plain")))
                        .allowed(),
                "an unfinished import into a plain PVC is CDI's legacy import, not a DataVolume's");
    }

    @Test
    void theSamePvcCreatedWithoutARestoreMarkerPassesUntouched() {
        TestCluster cluster = TestCluster.with(DATA_VOLUME_IN_CLUSTER);
        assertNull(mutate(cluster, create(created(pvc(CREATED_FOR)))).patch());
        assertTrue(
                validate(cluster, create(created(pvc("annotations: {kvp.kubevirt.io/storage.inprogress: \"true\"}"))))
                        .allowed());
    }

    static Stream<Arguments> unfinished() {
        return Stream.of(
                Arguments.of(
                        "marked in progress by the plugin",
                        "annotations: {kvp.kubevirt.io/storage.inprogress: \"true\", "
                                + "cdi.kubevirt.io/createdForDataVolume: x}",
                        "was marked in progress at backup"),
                Arguments.of(
                        "CDI's importer still running",
                        "annotations: {cdi.kubevirt.io/storage.pod.phase: Running, "
                                + "cdi.kubevirt.io/createdForDataVolume: x}",
                        "had CDI pod phase Running at backup"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unfinished")
    void anUnfinishedPvcIsNotMarkedAndIsRefused(String why, String metadata, String reason) {
        TestCluster cluster = TestCluster.with();
        AdmissionRequest request = create(restored(pvc(metadata), "plain"));
        assertNull(mutate(cluster, request).patch(), "populatedFor would make CDI trust partial data");
        Decision decision = validate(cluster, request);
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(
                "PersistentVolumeClaim team-a/web-root of DataVolume web-root " + reason
                        + "; not restored: CDI populates it again from the DataVolume",
                decision.message());
        assertEquals("restore-pvc-unfinished-refusal", decision.decidedBy());
    }

    @Test
    void warnModeRestoresTheUnfinishedPvcWithAWarning() {
        AdmissionRequest request =
                create(restored(pvc("annotations: {cdi.kubevirt.io/storage.pod.phase: Failed}"), "plain"));
        Decision decision = validate(
                TestCluster.with(DATA_VOLUME_IN_CLUSTER),
                mode("restore-pvc-unfinished-refusal", EnforcementMode.WARN),
                request);
        assertTrue(decision.allowed());
        assertEquals(1, decision.warnings().size());
        assertTrue(
                decision.warnings()
                        .get(0)
                        .startsWith(
                                "restore-pvc-unfinished-refusal (warn mode) would deny: PersistentVolumeClaim team-a/web-root"),
                decision.warnings().toString());
    }
}
