package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.TestCluster;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestoreDataVolumePrepopulatedTest {
    /** A cross-namespace clone as backed up: finished, owned by its VM. */
    static final String SUCCEEDED_CLONE = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata:
              name: web-root
              namespace: team-a
              uid: 0b7c1d2e-0000-4000-8000-000000000001
              resourceVersion: "4711"
              creationTimestamp: "2026-11-01T10:00:00Z"
              ownerReferences:
              - {apiVersion: kubevirt.io/v1, kind: VirtualMachine, name: web, uid: 0b7c1d2e-0000-4000-8000-000000000002, controller: true}
            spec:
              source: {pvc: {namespace: golden-images, name: fedora-40}}
              storage: {resources: {requests: {storage: 10Gi}}}
            status: {phase: Succeeded, progress: 100.0%}
            """;

    static final String IMPORT_IN_PROGRESS = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: scratch, namespace: team-a, uid: 0b7c1d2e-0000-4000-8000-000000000003}
            spec:
              source: {http: {url: "https://images.example.com/fedora.qcow2"}}
              storage: {resources: {requests: {storage: 10Gi}}}
            status: {phase: ImportInProgress, progress: 42.0%}
            """;

    final TestCluster cluster = TestCluster.with();

    @Test
    void succeededDataVolumeIsMarkedPrePopulatedWithItsName() {
        Decision decision = mutate(cluster, create(restored(SUCCEEDED_CLONE, "plain")));
        assertTrue(decision.allowed());
        assertEquals(
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"cdi.kubevirt.io/storage.prePopulated\":\"web-root\"}}]",
                decision.patch().toString());
        assertEquals(List.of(), decision.warnings());
    }

    @Test
    void reinvokingOnTheMarkedDataVolumeYieldsNoPatch() {
        AdmissionRequest request = create(restored(SUCCEEDED_CLONE, "plain"));
        Decision again = reinvoked(cluster, request, mutate(cluster, request));
        assertTrue(again.allowed());
        assertNull(again.patch());
    }

    @Test
    void anExistingPrePopulatedValueIsKept() {
        var dataVolume = restored(SUCCEEDED_CLONE, "plain");
        dataVolume.withObject("/metadata/annotations").put("cdi.kubevirt.io/storage.prePopulated", "from-the-plugin");
        assertNull(mutate(cluster, create(dataVolume)).patch());
    }

    @Test
    void unfinishedDataVolumeIsLeftForCdiWithAWarning() {
        Decision decision = mutate(cluster, create(restored(IMPORT_IN_PROGRESS, "plain")));
        assertTrue(decision.allowed());
        assertNull(decision.patch());
        assertEquals(
                List.of(
                        "restore: DataVolume team-a/scratch was ImportInProgress at backup; CDI will populate it again"),
                decision.warnings());
    }

    @Test
    void theSameDataVolumeCreatedWithoutARestoreMarkerPassesUntouched() {
        Decision decision = mutate(cluster, create(created(SUCCEEDED_CLONE)));
        assertNull(decision.patch());
        assertEquals(List.of(), decision.warnings());
    }

    @Test
    void otherBackupToolsAreRecognisedByTheMarkersThePolicyNames() {
        var dataVolume = created(SUCCEEDED_CLONE);
        dataVolume.withObject("/metadata/annotations").put("backup.example.com/restored-from", "snap-17");
        Policy otherTool = markers(List.of(), List.of("backup.example.com/restored-from"));
        assertEquals(
                "/metadata/annotations/cdi.kubevirt.io~1storage.prePopulated",
                mutate(cluster, otherTool, create(dataVolume))
                        .patch()
                        .get(0)
                        .path("path")
                        .asText());
        assertNull(
                mutate(cluster, otherTool, create(restored(SUCCEEDED_CLONE, "plain")))
                        .patch(),
                "velero's label is no marker under this policy");
    }

    @Test
    void warnModeReportsThePatchInsteadOfApplyingIt() {
        Decision decision = mutate(
                cluster,
                mode("restore-datavolume-prepopulated", EnforcementMode.WARN),
                create(restored(SUCCEEDED_CLONE, "plain")));
        assertNull(decision.patch());
        assertEquals(
                List.of("restore-datavolume-prepopulated (warn mode) would patch: add /metadata/annotations"),
                decision.warnings());
    }

    @Test
    void offModeSkipsTheRule() {
        Decision decision = mutate(
                cluster,
                mode("restore-datavolume-prepopulated", EnforcementMode.OFF),
                create(restored(IMPORT_IN_PROGRESS, "plain")));
        assertNull(decision.patch());
        assertEquals(List.of(), decision.warnings());
    }

    @Test
    void aRestoredCloneIsNeitherAuthorizedAgainNorGivenAToken() {
        var chain = new AdmissionChain(
                AdmissionChain.Stage.MUTATING,
                Rulebook.mutating(
                        new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE),
                        new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC())),
                cluster,
                RuleObserver.NONE,
                () -> Policy.DEFAULT);
        Decision decision = chain.decide(create(restored(SUCCEEDED_CLONE, "plain")));
        assertTrue(decision.allowed());
        assertEquals(1, decision.patch().size());
        assertFalse(decision.patch().toString().contains("clone.token"));
        assertEquals(List.of(), cluster.reviews());
    }
}
