package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VirtualMachineRestoreValidatorTest {
    static String restore(String target) {
        return """
                apiVersion: snapshot.kubevirt.io/v1beta1
                kind: VirtualMachineRestore
                metadata: {name: undo-upgrade, namespace: team-a}
                spec:
                  target: %s
                  virtualMachineSnapshotName: before-upgrade
                """.formatted(target);
    }

    static final String TARGET_WEB = "{apiGroup: kubevirt.io, kind: VirtualMachine, name: web}";

    static String vmi(String phase) {
        return """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: web, namespace: team-a}
                spec: {domain: {devices: {}}}
                status: {phase: %s}
                """.formatted(phase);
    }

    @ParameterizedTest(name = "VMI {0} means stopped")
    @CsvSource({"Succeeded", "Failed"})
    void aStoppedTargetMayBeRestored(String phase) {
        assertTrue(validate(TestCluster.with(vmi(phase)), create(TestCluster.yaml(restore(TARGET_WEB)))).allowed());
        assertTrue(validate(TestCluster.with(), create(TestCluster.yaml(restore(TARGET_WEB)))).allowed(), "no VMI at all");
    }

    @ParameterizedTest(name = "VMI {0} means running")
    @CsvSource({"Running", "Scheduling", "Pending"})
    void aRunningTargetIsRefused(String phase) {
        Decision decision = validate(TestCluster.with(vmi(phase)), create(TestCluster.yaml(restore(TARGET_WEB))));
        assertFalse(decision.allowed());
        assertEquals(422, decision.code());
        assertEquals("VirtualMachine \"web\" is not stopped", decision.message());
        assertEquals(List.of(Cause.invalid("spec.target.name", "VirtualMachine \"web\" is not stopped")), decision.causes());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "no apiGroup     | {kind: VirtualMachine, name: web}                          | spec.target.apiGroup | missing apiGroup",
            "another group   | {apiGroup: apps, kind: VirtualMachine, name: web}          | spec.target.apiGroup | apiGroup \"apps\" is not kubevirt.io",
            "another kind    | {apiGroup: kubevirt.io, kind: VirtualMachinePool, name: w} | spec.target.kind     | kind \"VirtualMachinePool\" is not VirtualMachine",
            "no name         | {apiGroup: kubevirt.io, kind: VirtualMachine}              | spec.target.name     | missing name"})
    void theTargetMustBeAKubevirtVirtualMachine(String why, String target, String field, String message) {
        Decision decision = validate(TestCluster.with(), create(TestCluster.yaml(restore(target))));
        assertEquals(List.of(Cause.invalid(field, message)), decision.causes());
    }

    @Test
    void theSpecIsImmutable() {
        ObjectNode old = TestCluster.yaml(restore(TARGET_WEB));
        ObjectNode changed = old.deepCopy();
        changed.withObject("/spec").put("virtualMachineSnapshotName", "after-upgrade");
        Decision decision = validate(TestCluster.with(vmi("Running")), update(old, changed));
        assertEquals(422, decision.code());
        assertEquals("spec is immutable after creation", decision.message());

        ObjectNode statusOnly = old.deepCopy();
        statusOnly.putObject("status").put("complete", true);
        assertTrue(validate(TestCluster.with(vmi("Running")), update(old, statusOnly)).allowed(), "status updates of a running restore pass");
    }
}
