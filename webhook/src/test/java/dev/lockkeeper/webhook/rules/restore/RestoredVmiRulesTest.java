package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link RestoreVmiOwnedRefusal} and {@link RestoreVmiControllerLabels}. */
class RestoredVmiRulesTest {
    static final String VM_IN_CLUSTER = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: web, namespace: team-a}
            spec: {runStrategy: Always, template: {spec: {domain: {devices: {}}}}}
            """;

    /** A running VMI as backed up, with the labels KubeVirt's controllers set. */
    static String vmi(String name, String extraMetadata) {
        return """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                  namespace: team-a
                  uid: 9d1f0000-0000-4000-8000-000000000020
                  labels:
                    app: web
                    kubevirt.io/created-by: 9d1f0000-0000-4000-8000-000000000021
                    kubevirt.io/nodeName: node-3
                    kubevirt.io/schedulable: "true"
                %s
                spec: {domain: {devices: {}}}
                status: {phase: Running, nodeName: node-3}
                """.formatted(name, extraMetadata.indent(2).stripTrailing());
    }

    static Stream<Arguments> owned() {
        return Stream.of(
                Arguments.of(
                        "marked isOwned by the plugin at backup",
                        TestCluster.with(),
                        vmi("web", "annotations: {cdi.kubevirt.io/velero.isOwned: \"true\"}"),
                        "web"),
                Arguments.of(
                        "ownerReference kept by a tool that does not strip it",
                        TestCluster.with(),
                        vmi(
                                "web",
                                "ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachine, name: web, uid: x}]"),
                        "web"),
                Arguments.of(
                        "labelled by KubeVirt's VM controller",
                        TestCluster.with(),
                        vmi("web", "").replace("    app: web\n", "    app: web\n    vm.kubevirt.io/name: web\n"),
                        "web"),
                Arguments.of(
                        "a VM of the same name already restored",
                        TestCluster.with(VM_IN_CLUSTER),
                        vmi("web", ""),
                        "web"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("owned")
    void aVmiOwnedByAVmIsRefused(String evidence, TestCluster cluster, String backedUp, String vm) {
        ObjectNode restoredVmi = TestCluster.yaml(backedUp);
        restoredVmi.withObject("/metadata/labels").put(RestoreKeys.VELERO_RESTORE_NAME, "plain");
        Decision decision = validate(cluster, create(restoredVmi));
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(
                "VirtualMachineInstance team-a/web is owned by VirtualMachine " + vm
                        + ", which recreates it; not restored",
                decision.message());
    }

    @Test
    void aStandaloneVmiIsRestoredWithoutItsControllerLabels() {
        AdmissionRequest request = create(restored(vmi("batch-job", ""), "plain"));
        TestCluster cluster = TestCluster.with(VM_IN_CLUSTER);
        Decision decision = mutate(cluster, request);
        assertEquals(
                "[{\"op\":\"remove\",\"path\":\"/metadata/labels/kubevirt.io~1created-by\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/labels/kubevirt.io~1nodeName\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/labels/kubevirt.io~1schedulable\"}]",
                decision.patch().toString());
        ObjectNode stored = patched(request, decision);
        assertEquals(
                "web",
                stored.path("metadata").path("labels").path("app").asText(),
                "labels KubeVirt does not own stay");
        assertEquals("Running", stored.path("status").path("phase").asText());
        assertNull(reinvoked(cluster, request, decision).patch());
        assertTrue(validate(cluster, create(stored)).allowed());
    }

    @Test
    void theSameVmiCreatedWithoutARestoreMarkerPassesUntouched() {
        TestCluster cluster = TestCluster.with(VM_IN_CLUSTER);
        AdmissionRequest request = create(created(vmi("web", "")));
        assertNull(mutate(cluster, request).patch());
        assertTrue(validate(cluster, request).allowed());
    }

    @Test
    void warnModeLetsTheOwnedVmiThroughWithAWarning() {
        Decision decision = validate(
                TestCluster.with(VM_IN_CLUSTER),
                mode("restore-vmi-owned-refusal", EnforcementMode.WARN),
                create(restored(vmi("web", ""), "plain")));
        assertTrue(decision.allowed());
        assertEquals(
                List.of(
                        "restore-vmi-owned-refusal (warn mode) would deny: VirtualMachineInstance team-a/web is owned by "
                                + "VirtualMachine web, which recreates it; not restored"),
                decision.warnings());
    }

    @Test
    void offModeKeepsTheControllerLabels() {
        Decision decision = mutate(
                TestCluster.with(),
                mode("restore-vmi-controller-labels", EnforcementMode.OFF),
                create(restored(vmi("batch-job", ""), "plain")));
        assertNull(decision.patch());
    }
}
