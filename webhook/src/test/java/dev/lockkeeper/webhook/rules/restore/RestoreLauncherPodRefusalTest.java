package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RestoreLauncherPodRefusalTest {
    final TestCluster cluster = TestCluster.with();

    static String pod(String name, String role) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: team-a
                  uid: 1c2d0000-0000-4000-8000-000000000030
                  labels: {kubevirt.io: %s, vm.kubevirt.io/name: web}
                  ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, name: web, uid: x, controller: true}]
                spec: {containers: [{name: compute, image: quay.io/kubevirt/virt-launcher:v1.4.0}]}
                status: {phase: Running}
                """.formatted(name, role);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "virt-launcher-web-x7k2p | virt-launcher | KubeVirt starts a new one when the VM runs",
                "hp-volume-9zq4m         | hotplug-disk  | KubeVirt creates a new one when the volume is hotplugged"
            })
    void kubevirtsOwnPodsAreRefused(String name, String role, String instead) {
        Decision decision = validate(cluster, create(restored(pod(name, role), "plain")));
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(
                "Pod team-a/" + name + " is a KubeVirt " + role + " pod; not restored: " + instead, decision.message());
    }

    @Test
    void otherRestoredPodsAndUnrestoredLauncherPodsPass() {
        assertTrue(validate(cluster, create(restored(pod("web-frontend", "something-else"), "plain")))
                .allowed());
        assertTrue(validate(cluster, create(created(pod("virt-launcher-web-x7k2p", "virt-launcher"))))
                .allowed());
    }

    @Test
    void offModeRestoresLauncherPods() {
        Decision decision = validate(
                cluster,
                mode("restore-launcher-pod-refusal", EnforcementMode.OFF),
                create(restored(pod("virt-launcher-web-x7k2p", "virt-launcher"), "plain")));
        assertTrue(decision.allowed());
        assertEquals(List.of(), decision.warnings());
    }
}
