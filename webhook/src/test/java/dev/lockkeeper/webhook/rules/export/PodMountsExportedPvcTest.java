package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.support.TestCluster;
import org.junit.jupiter.api.Test;

class PodMountsExportedPvcTest {
    static final String EXPORTER_OWNER =
            "ownerReferences: [{apiVersion: export.kubevirt.io/v1beta1, kind: VirtualMachineExport, "
                    + "name: disk-export, uid: uid-disk-export, controller: true}]";

    static AdmissionRequest createPod(String yaml, UserInfo user) {
        return request("", "v1", "Pod", "pods", "", Operation.CREATE, yaml, null, user);
    }

    static String podMounting(String name, String claim, String metadataExtra) {
        return "{apiVersion: v1, kind: Pod, metadata: {name: " + name + ", namespace: team-a" + metadataExtra + "}, "
                + "spec: {volumes: [{name: cfg, configMap: {name: c}}, {name: data, persistentVolumeClaim: {claimName: "
                + claim + "}}]}}";
    }

    final TestCluster cluster = TestCluster.with(
            export("disk-export", "PersistentVolumeClaim", "disk", "Ready"),
            vm("web", "Halted", "dv:web-root"),
            export("web-export", "VirtualMachine", "web", "Pending"),
            export("old", "PersistentVolumeClaim", "archive", "Terminated"));

    @Test
    void refusesPodsMountingAnExportedPvc() {
        Decision decision = validate(cluster, createPod(podMounting("reader", "disk", ""), CAROL));
        assertEquals(403, decision.code());
        assertEquals(
                "Pod team-a/reader cannot mount PersistentVolumeClaim team-a/disk while VirtualMachineExport team-a/disk-export (Ready) "
                        + "is active; delete the export or wait until it is Terminated",
                decision.message());
    }

    @Test
    void refusesPodsMountingADiskOfAnExportedVm() {
        assertFalse(validate(cluster, createPod(podMounting("reader", "web-root", ""), CAROL))
                .allowed());
    }

    @Test
    void letsTheExportersOwnPodThrough() {
        assertTrue(validate(
                        cluster,
                        createPod(
                                podMounting("virt-export-disk-export", "disk", ", " + EXPORTER_OWNER),
                                KUBEVIRT_CONTROLLER))
                .allowed());
    }

    @Test
    void anOwnerReferenceAloneDoesNotMakeAPodTheExporter() {
        assertFalse(
                validate(
                                cluster,
                                createPod(podMounting("virt-export-disk-export", "disk", ", " + EXPORTER_OWNER), CAROL))
                        .allowed(),
                "a user cannot claim to be the exporter by copying its owner reference");
        assertFalse(
                validate(
                                cluster,
                                createPod(
                                        podMounting(
                                                "virt-export-disk-export",
                                                "disk",
                                                ", " + EXPORTER_OWNER.replace("uid-disk-export", "uid-forged")),
                                        KUBEVIRT_CONTROLLER))
                        .allowed(),
                "the owner UID must match");
        assertFalse(validate(
                        cluster,
                        createPod(
                                podMounting(
                                        "virt-export-disk-export",
                                        "disk",
                                        ", " + EXPORTER_OWNER.replace("controller: true", "controller: false")),
                                KUBEVIRT_CONTROLLER))
                .allowed());
    }

    @Test
    void onlyTheConfiguredControllerServiceAccountCountsNotASameNamedOne() {
        String exporter = podMounting("virt-export-disk-export", "disk", ", " + EXPORTER_OWNER);
        UserInfo impostor = new UserInfo(
                "system:serviceaccount:team-a:kubevirt-controller", "", java.util.List.of(), java.util.Map.of());
        assertFalse(
                validate(cluster, createPod(exporter, impostor)).allowed(),
                "a namespace admin can create an SA with that name");
        UserInfo openshift = new UserInfo(
                "system:serviceaccount:openshift-cnv:kubevirt-controller", "", java.util.List.of(), java.util.Map.of());
        assertTrue(
                validate(cluster, createPod(exporter, openshift)).allowed(),
                "the OpenShift Virtualization controller is a default");
        UserInfo custom = new UserInfo(
                "system:serviceaccount:virt:kubevirt-controller", "", java.util.List.of(), java.util.Map.of());
        assertFalse(validate(cluster, createPod(exporter, custom)).allowed());
        assertTrue(
                validate(
                                cluster,
                                createPod(exporter, custom),
                                "export: {exporterCreators: [\"system:serviceaccount:virt:kubevirt-controller\"]}")
                        .allowed(),
                "other install namespaces are configured in the policy");
    }

    @Test
    void podsWithoutExportedClaimsPass() {
        assertTrue(validate(cluster, createPod(podMounting("app", "unrelated", ""), CAROL))
                .allowed());
        assertTrue(
                validate(cluster, createPod(podMounting("app", "archive", ""), CAROL))
                        .allowed(),
                "terminated export");
        assertTrue(validate(
                        cluster,
                        createPod(
                                "{apiVersion: v1, kind: Pod, metadata: {name: plain, namespace: team-a}, spec: {containers: []}}",
                                CAROL))
                .allowed());
    }
}
