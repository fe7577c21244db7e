package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExportSourceInUseTest {

    @Test
    void refusesToExportAVmWithARunningVmiAndOffersTheWaysOut() {
        TestCluster cluster = TestCluster.with(vm("web", "Halted", "disk"), vmi("web", "Running"));
        Decision decision = validate(cluster, createExport("v1", "VirtualMachine", "web", ""));
        assertEquals(403, decision.code());
        assertEquals(
                "Virtual Machine team-a/web is running; stop it first (virtctl stop web -n team-a) or export a "
                        + "VirtualMachineSnapshot of it instead (spec.source kind VirtualMachineSnapshot)",
                decision.message());
        assertEquals("spec.source", decision.causes().getFirst().field());
    }

    @ParameterizedTest(name = "runStrategy {0}")
    @ValueSource(strings = {"Always", "RerunOnFailure", "Once", "WaitAsReceiver"})
    void refusesToExportAVmThatAsksToRun(String strategy) {
        TestCluster cluster = TestCluster.with(vm("web", strategy, "disk"));
        assertFalse(
                validate(cluster, createExport("v1beta1", "VirtualMachine", "web", ""))
                        .allowed(),
                strategy);
    }

    @Test
    void refusesAVmWithSpecRunningTrue() {
        TestCluster cluster =
                TestCluster.with(vm("web", "Halted", "disk").replace("runStrategy: Halted", "running: true"));
        assertFalse(validate(cluster, createExport("v1", "VirtualMachine", "web", ""))
                .allowed());
    }

    @Test
    void exportsAStoppedVmOrOneWhoseVmiFinished() {
        assertTrue(
                validate(TestCluster.with(vm("web", "Halted", "disk")), createExport("v1", "VirtualMachine", "web", ""))
                        .allowed());
        assertTrue(
                validate(
                                TestCluster.with(vm("web", "RerunOnFailure", "disk"), vmi("web", "Succeeded")),
                                createExport("v1", "VirtualMachine", "web", ""))
                        .allowed(),
                "RerunOnFailure does not rerun a VMI that succeeded");
        assertTrue(validate(
                        TestCluster.with(vm("web", "Manual", "disk"), vmi("web", "Failed")),
                        createExport("v1", "VirtualMachine", "web", ""))
                .allowed());
        assertTrue(
                validate(
                                TestCluster.with(vm("web", "Once", "disk"), vmi("web", "Failed")),
                                createExport("v1", "VirtualMachine", "web", ""))
                        .allowed(),
                "Once never reruns");
        assertFalse(
                validate(
                                TestCluster.with(vm("web", "RerunOnFailure", "disk"), vmi("web", "Failed")),
                                createExport("v1", "VirtualMachine", "web", ""))
                        .allowed(),
                "RerunOnFailure starts a failed VMI again");
        assertTrue(
                validate(TestCluster.with(), createExport("v1", "VirtualMachine", "not-yet", ""))
                        .allowed(),
                "a VM that does not exist yet is KubeVirt's to wait for");
    }

    @Test
    void refusesAStoppedVmWhoseDiskAnotherPodMounts() {
        TestCluster cluster =
                TestCluster.with(vm("web", "Halted", "dv:web-root"), pod("debugger", "Running", "web-root"));
        Decision decision = validate(cluster, createExport("v1", "VirtualMachine", "web", ""));
        assertEquals(
                "PersistentVolumeClaim team-a/web-root is in use by pod team-a/debugger (Running); stop it before exporting VM web, "
                        + "or export a VirtualMachineSnapshot instead",
                decision.message());
    }

    @Test
    void refusesAPvcThatALivePodMountsNamingThePod() {
        TestCluster cluster = TestCluster.with(pod("app-7d9", "Running", "disk"), pod("old-job", "Succeeded", "disk"));
        Decision decision = validate(cluster, createExport("v1", "PersistentVolumeClaim", "disk", ""));
        assertEquals(403, decision.code());
        assertTrue(
                decision.message()
                        .startsWith("PersistentVolumeClaim team-a/disk is in use by pod team-a/app-7d9 (Running)"),
                decision.message());
    }

    @Test
    void exportsAPvcOnlySucceededPodsUsed() {
        TestCluster cluster =
                TestCluster.with(pod("old-job", "Succeeded", "disk"), pod("other", "Running", "other-disk"));
        assertTrue(validate(cluster, createExport("v1", "PersistentVolumeClaim", "disk", ""))
                .allowed());
        Decision failed = validate(
                TestCluster.with(pod("crashed", "Failed", "disk")),
                createExport("v1", "PersistentVolumeClaim", "disk", ""));
        assertTrue(
                failed.message()
                        .startsWith("PersistentVolumeClaim team-a/disk is in use by pod team-a/crashed (Failed)"),
                failed.message());
    }

    @Test
    void snapshotsAreTheWayToExportARunningVmWithWarningsWhileNotReady() {
        String ready =
                "{apiVersion: snapshot.kubevirt.io/v1beta1, kind: VirtualMachineSnapshot, metadata: {name: snap, namespace: team-a}, status: {readyToUse: true}}";
        TestCluster cluster = TestCluster.with(
                vm("web", "Always", "disk"),
                vmi("web", "Running"),
                ready,
                ready.replace("name: snap", "name: busy").replace("readyToUse: true", "readyToUse: false"));
        Decision fine = validate(cluster, createExport("v1", "VirtualMachineSnapshot", "snap", ""));
        assertTrue(fine.allowed());
        assertEquals(List.of(), fine.warnings());
        assertEquals(
                List.of("VirtualMachineSnapshot team-a/busy is not ready to use; the export waits for it"),
                validate(cluster, createExport("v1", "VirtualMachineSnapshot", "busy", ""))
                        .warnings());
        assertEquals(
                List.of("VirtualMachineSnapshot team-a/later not found; the export waits for it"),
                validate(cluster, createExport("v1", "VirtualMachineSnapshot", "later", ""))
                        .warnings());
    }

    @Test
    void warnModeLetsTheExportThroughWithTheReason() {
        TestCluster cluster = TestCluster.with(vm("web", "Always", "disk"));
        Decision decision = validate(
                cluster, createExport("v1", "VirtualMachine", "web", ""), "rules: {export-source-in-use: warn}");
        assertTrue(decision.allowed());
        assertTrue(decision.warnings()
                .getFirst()
                .startsWith("export-source-in-use (warn mode) would deny: Virtual Machine team-a/web is running"));
        assertTrue(
                validate(cluster, createExport("v1", "VirtualMachine", "web", ""), "rules: {export-source-in-use: off}")
                        .allowed());
        assertTrue(validate(cluster, createExport("v1", "VirtualMachine", "web", ""), "excludedNamespaces: [team-a]")
                .allowed());
    }
}
