package dev.lockkeeper.webhook.rules.restore;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestoreRulesTest {
    final List<String> names = new ArrayList<>();

    RestoreRulesTest() {
        RestoreRules.mutating().stream().map(AdmissionRule::name).forEach(names::add);
        RestoreRules.validating().stream().map(AdmissionRule::name).forEach(names::add);
    }

    @Test
    void everyRestoreRuleIsAPolicyKeyOfItsOwn() {
        assertEquals(
                List.of(
                        "restore-datavolume-prepopulated",
                        "restore-pvc-populated-for",
                        "restore-vmi-controller-labels",
                        "restore-vm-identity",
                        "restore-vmi-identity",
                        "restore-vm-run-strategy",
                        "restore-pvc-unfinished-refusal",
                        "restore-vmi-owned-refusal",
                        "restore-launcher-pod-refusal",
                        "virtualmachinerestore-validation"),
                names);
        assertTrue(Rulebook.ruleNames().containsAll(names));
    }

    @Test
    void aPolicyFileSetsTheirModesAndMarkers() throws Exception {
        Policy policy = Rulebook.policyParser().parse("restore.yaml", """
                apiVersion: lockkeeper.dev/v1
                kind: Policy
                rules: {restore-vm-identity: warn, restore-launcher-pod-refusal: "off"}
                restore: {markerLabels: [velero.io/restore-name], markerAnnotations: [backup.example.com/restored-from]}
                """);
        assertEquals(EnforcementMode.WARN, policy.mode("restore-vm-identity"));
        assertEquals(EnforcementMode.OFF, policy.mode("restore-launcher-pod-refusal"));
        assertEquals(EnforcementMode.DENY, policy.mode("restore-pvc-unfinished-refusal"));
        assertEquals(
                List.of("backup.example.com/restored-from"), policy.restore().markerAnnotations());
    }
}
