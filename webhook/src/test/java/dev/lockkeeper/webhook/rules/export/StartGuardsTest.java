package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.support.TestCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every way a VM starts is refused while an export holds it or one of its disks. */
class StartGuardsTest {
    static final String HALTED = vm("web", "Halted", "dv:web-root", "data");

    static AdmissionRequest vmUpdate(String yaml, String old) {
        return request(
                "kubevirt.io", "v1", "VirtualMachine", "virtualmachines", "", Operation.UPDATE, yaml, old, CAROL);
    }

    static AdmissionRequest statusUpdate(String yaml, String old) {
        return request(
                "kubevirt.io",
                "v1",
                "VirtualMachine",
                "virtualmachines",
                "status",
                Operation.UPDATE,
                yaml,
                old,
                new dev.lockkeeper.webhook.admission.UserInfo(
                        "system:serviceaccount:kubevirt:kubevirt-api", "", java.util.List.of(), java.util.Map.of()));
    }

    static AdmissionRequest vmiCreate(String yaml) {
        return request(
                "kubevirt.io",
                "v1",
                "VirtualMachineInstance",
                "virtualmachineinstances",
                "",
                Operation.CREATE,
                yaml,
                null,
                KUBEVIRT_CONTROLLER);
    }

    @Test
    void runStrategyMovedOffHaltedIsRefusedNamingTheExport() {
        TestCluster cluster = TestCluster.with(HALTED, export("web-export", "VirtualMachine", "web", "Ready"));
        Decision decision =
                validate(cluster, vmUpdate(HALTED.replace("runStrategy: Halted", "runStrategy: Always"), HALTED));
        assertEquals(403, decision.code());
        assertEquals(
                "VirtualMachine team-a/web cannot start while VirtualMachineExport team-a/web-export (Ready) is active; "
                        + "delete the export (kubectl delete virtualmachineexport web-export -n team-a) or wait until it is Terminated, then start the VM",
                decision.message());
        assertEquals("spec.runStrategy", decision.causes().getFirst().field());
    }

    @Test
    void runningTrueIsRefused() {
        String stopped = HALTED.replace("runStrategy: Halted", "running: false");
        TestCluster cluster = TestCluster.with(HALTED, export("web-export", "VirtualMachine", "web", "Pending"));
        Decision decision = validate(cluster, vmUpdate(stopped.replace("running: false", "running: true"), stopped));
        assertFalse(decision.allowed());
        assertEquals("spec.running", decision.causes().getFirst().field());
    }

    @Test
    void editsThatDoNotStartTheVmPass() {
        TestCluster cluster = TestCluster.with(HALTED, export("web-export", "VirtualMachine", "web", "Ready"));
        assertTrue(validate(
                        cluster,
                        vmUpdate(HALTED.replace("namespace: team-a}", "namespace: team-a, labels: {x: y}}"), HALTED))
                .allowed());
        assertTrue(
                validate(cluster, vmUpdate(HALTED.replace("runStrategy: Halted", "runStrategy: Manual"), HALTED))
                        .allowed(),
                "Manual does not start the VM by itself");
        String always = HALTED.replace("runStrategy: Halted", "runStrategy: Always");
        assertTrue(
                validate(
                                cluster,
                                vmUpdate(
                                        always.replace("volumes: [", "volumes: [{name: c, containerDisk: {}}, "),
                                        always))
                        .allowed(),
                "a VM that already asked to run is not being started");
    }

    @ParameterizedTest(name = "{0} VM whose VMI {1}, moved to {2}: refused {3}")
    @CsvSource({
        "Once, Succeeded, Always, true",
        "Once, Failed, Always, true",
        "RerunOnFailure, Succeeded, Always, true",
        "Once, Succeeded, RerunOnFailure, false",
        "Once, Failed, RerunOnFailure, true",
        "RerunOnFailure, Failed, Always, false",
        "Once, Running, Always, false",
        "Halted, , Once, true",
        "Halted, , RerunOnFailure, true",
        "Manual, Succeeded, Always, true"
    })
    void runUntilDoneVmsAreJudgedByTheirVmi(String from, String vmiPhase, String to, boolean refused) {
        String before = vm("web", from, "dv:web-root", "data");
        var objects = new java.util.ArrayList<>(
                java.util.List.of(before, export("web-export", "VirtualMachine", "web", "Ready")));
        if (vmiPhase != null) objects.add(vmi("web", vmiPhase));
        TestCluster cluster = TestCluster.with(objects.toArray(String[]::new));
        Decision decision =
                validate(cluster, vmUpdate(before.replace("runStrategy: " + from, "runStrategy: " + to), before));
        assertEquals(!refused, decision.allowed(), decision.message());
    }

    @ParameterizedTest(name = "export phase {0}")
    @ValueSource(strings = {"Terminated", "Skipped"})
    void finishedExportsDoNotBlock(String phase) {
        TestCluster cluster = TestCluster.with(HALTED, export("web-export", "VirtualMachine", "web", phase));
        assertTrue(validate(cluster, vmUpdate(HALTED.replace("runStrategy: Halted", "runStrategy: Always"), HALTED))
                .allowed());
    }

    @Test
    void aNewExportWithoutStatusBlocks() {
        TestCluster cluster = TestCluster.with(HALTED, export("fresh", "VirtualMachine", "web", null));
        Decision decision =
                validate(cluster, vmUpdate(HALTED.replace("runStrategy: Halted", "runStrategy: Always"), HALTED));
        assertTrue(
                decision.message().contains("VirtualMachineExport team-a/fresh (no status yet)"), decision.message());
    }

    @Test
    void anExportOfOneOfTheVmsDisksBlocksDirectlyOrThroughItsDataVolume() {
        for (String claim : new String[] {"web-root", "data"}) {
            TestCluster cluster =
                    TestCluster.with(HALTED, export("disk-export", "PersistentVolumeClaim", claim, "Ready"));
            assertFalse(
                    validate(cluster, vmUpdate(HALTED.replace("runStrategy: Halted", "runStrategy: Always"), HALTED))
                            .allowed(),
                    claim);
        }
    }

    @Test
    void aStartStateChangeRequestIsRefused() {
        String manual = HALTED.replace("runStrategy: Halted", "runStrategy: Manual");
        String requested =
                manual.substring(0, manual.length() - 1) + ", status: {stateChangeRequests: [{action: Start}]}}";
        TestCluster cluster = TestCluster.with(manual, export("web-export", "VirtualMachine", "web", "Ready"));
        Decision decision = validate(cluster, statusUpdate(requested, manual));
        assertFalse(decision.allowed());
        assertEquals("status.stateChangeRequests", decision.causes().getFirst().field());
        assertTrue(validate(cluster, statusUpdate(requested.replace("Start", "Stop"), manual))
                .allowed());
        assertTrue(
                validate(cluster, statusUpdate(requested, requested)).allowed(),
                "an unchanged request list is not a new start");
    }

    @Test
    void creatingTheVmiIsRefused() {
        String vmi =
                "{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, metadata: {name: web, namespace: team-a, "
                        + "ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachine, name: web, controller: true}]}, "
                        + "spec: {domain: {devices: {}}, volumes: [{name: root, dataVolume: {name: web-root}}]}}";
        TestCluster exported = TestCluster.with(HALTED, export("web-export", "VirtualMachine", "web", "Ready"));
        assertFalse(validate(exported, vmiCreate(vmi)).allowed());
        TestCluster diskExported =
                TestCluster.with(export("root-export", "PersistentVolumeClaim", "web-root", "Ready"));
        Decision standalone = validate(
                diskExported,
                vmiCreate(vmi.replace("name: web, namespace", "name: standalone, namespace")
                        .replace(
                                ", ownerReferences: [{apiVersion: kubevirt.io/v1, kind: VirtualMachine, name: web, controller: true}]",
                                "")));
        assertEquals(
                "VirtualMachineInstance team-a/standalone cannot start while VirtualMachineExport team-a/root-export (Ready) is active; "
                        + "delete the export (kubectl delete virtualmachineexport root-export -n team-a) or wait until it is Terminated, then create it again",
                standalone.message(),
                "a standalone VMI mounting an exported disk is refused as itself");
        assertTrue(
                validate(diskExported, vmiCreate(vmi)).message().startsWith("VirtualMachine team-a/web cannot start"));
        assertTrue(validate(TestCluster.with(HALTED), vmiCreate(vmi)).allowed());
    }
}
