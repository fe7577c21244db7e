package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * KubeVirt v1.9, case by case (each names the upstream {@code It}/{@code Entry} it mirrors), in embedded mode:
 * {@code pkg/storage/admitters/vmexport_test.go} for the source rules, and the export controller's source tests
 * ({@code pvc-source_test.go}, {@code vm-source_test.go}, {@code vmsnapshot-source_test.go}, {@code backup-source_test.go},
 * {@code vmtemplate-source_test.go}) plus {@code watch/util.PodsUsingPVCs} for what counts as in use. Upstream's
 * "should reject invalid request resource" has no counterpart: a rule only ever sees the resources its Match names.
 */
class VmExportUpstreamTest {
    static final String NO_GATES = "";
    static final String BOTH_GATES = kubevirt("featureGates: [Template, OCIExport]");
    static final String OCI_ONLY = kubevirt("featureGates: [OCIExport], disabledFeatureGates: [Template]");
    static final String TEMPLATE_ONLY = kubevirt("featureGates: [Template]");

    static String kubevirt(String developerConfiguration) {
        return "{apiVersion: kubevirt.io/v1, kind: KubeVirt, metadata: {name: kubevirt, namespace: kubevirt}, "
                + "spec: {configuration: {developerConfiguration: {" + developerConfiguration + "}}}}";
    }

    static TestCluster cluster(String... objects) {
        return TestCluster.with(Stream.of(objects).filter(o -> !o.isEmpty()).toArray(String[]::new));
    }

    static Decision create(TestCluster cluster, String source) {
        return validate(
                cluster,
                request(
                        "export.kubevirt.io",
                        "v1",
                        "VirtualMachineExport",
                        "virtualmachineexports",
                        "",
                        Operation.CREATE,
                        "{metadata: {name: exp, namespace: foo}, spec: {source: " + source + "}}",
                        null,
                        CAROL));
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                // "it should reject blank names": Entry "persistent volume claim" (apiGroup v1, so also the group)
                Arguments.of(
                        "blank PVC name",
                        NO_GATES,
                        "{apiGroup: v1, kind: PersistentVolumeClaim, name: ''}",
                        List.of("PVC name must not be empty", "PVC API group must be missing or blank")),
                // Entry "virtual machine snapshot" (its apiGroup kubevirt.io is wrong as well)
                Arguments.of(
                        "blank VMSnapshot name",
                        NO_GATES,
                        "{apiGroup: kubevirt.io, kind: VirtualMachineSnapshot, name: ''}",
                        List.of(
                                "VMSnapshot name must not be empty",
                                "VMSnapshot API group must be snapshot.kubevirt.io")),
                // Entry "virtual machine"
                Arguments.of(
                        "blank VM name",
                        NO_GATES,
                        "{apiGroup: kubevirt.io, kind: VirtualMachine, name: ''}",
                        List.of("Virtual Machine name must not be empty")),
                // Entry "virtual machine backup"
                Arguments.of(
                        "blank VirtualMachineBackup name",
                        NO_GATES,
                        "{apiGroup: backup.kubevirt.io, kind: VirtualMachineBackup, name: ''}",
                        List.of("VirtualMachineBackup name must not be empty")),
                // "should reject blank VMTemplate name when Template gate enabled"
                Arguments.of(
                        "blank VMTemplate name",
                        BOTH_GATES,
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: ''}",
                        List.of("VirtualMachineTemplate name must not be empty")),
                // "should reject VMTemplate source when required feature gates are missing": Entries "no feature
                // gates",
                // "only OCIExport", "only Template"; one cause, on the kind, and no name/group checks after it
                Arguments.of(
                        "template, no feature gates",
                        NO_GATES,
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: ''}",
                        List.of(
                                "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled")),
                Arguments.of(
                        "template, only OCIExport",
                        OCI_ONLY,
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: ''}",
                        List.of(
                                "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled")),
                Arguments.of(
                        "template, only Template",
                        TEMPLATE_ONLY,
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: ''}",
                        List.of(
                                "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled")),
                // virt-template deployment switched off in the KubeVirt CR (VirtTemplateDeploymentEnabled) counts as
                // missing
                Arguments.of(
                        "template, deployment disabled",
                        "{apiVersion: kubevirt.io/v1, kind: KubeVirt, metadata: {name: kubevirt, namespace: kubevirt}, "
                                + "spec: {configuration: {developerConfiguration: {featureGates: [Template, OCIExport]}, virtTemplateDeployment: {enabled: false}}}}",
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: t}",
                        List.of(
                                "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled")),
                // "should reject unknown kind"
                Arguments.of(
                        "unknown kind", NO_GATES, "{apiGroup: v1, kind: unknown, name: test}", List.of("invalid kind")),
                // "it should reject invalid apigroups": Entries PVC, snapshot, VM, backup
                Arguments.of(
                        "PVC invalid group",
                        NO_GATES,
                        "{apiGroup: invalid, kind: PersistentVolumeClaim, name: test}",
                        List.of("PVC API group must be missing or blank")),
                Arguments.of(
                        "snapshot invalid group",
                        NO_GATES,
                        "{apiGroup: invalid, kind: VirtualMachineSnapshot, name: test}",
                        List.of("VMSnapshot API group must be snapshot.kubevirt.io")),
                Arguments.of(
                        "VM invalid group",
                        NO_GATES,
                        "{apiGroup: invalid, kind: VirtualMachine, name: test}",
                        List.of("VM API group must be kubevirt.io")),
                Arguments.of(
                        "backup invalid group",
                        NO_GATES,
                        "{apiGroup: invalid, kind: VirtualMachineBackup, name: test}",
                        List.of("VirtualMachineBackup API group must be backup.kubevirt.io")),
                Arguments.of(
                        "backup without group",
                        NO_GATES,
                        "{kind: VirtualMachineBackup, name: test}",
                        List.of("VirtualMachineBackup API group must be backup.kubevirt.io")),
                // "should reject invalid VMTemplate apigroup"
                Arguments.of(
                        "template invalid group",
                        BOTH_GATES,
                        "{apiGroup: invalid, kind: VirtualMachineTemplate, name: test}",
                        List.of("VirtualMachineTemplate API group must be template.kubevirt.io")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void rejectsAsTheAdmitterDoes(String name, String kubevirt, String source, List<String> messages) {
        Decision decision = create(cluster(kubevirt), source);
        assertEquals(422, decision.code(), name);
        assertEquals(messages, decision.causes().stream().map(c -> c.message()).toList(), name);
    }

    static Stream<Arguments> allowed() {
        return Stream.of(
                // "it should allow": Entries "persistent volume claim blank", "virtual machine snapshot", "virtual
                // machine"
                Arguments.of("PVC, blank group", NO_GATES, "{apiGroup: '', kind: PersistentVolumeClaim, name: test}"),
                Arguments.of("PVC, no group", NO_GATES, "{kind: PersistentVolumeClaim, name: test}"),
                Arguments.of(
                        "snapshot",
                        NO_GATES,
                        "{apiGroup: snapshot.kubevirt.io, kind: VirtualMachineSnapshot, name: test}"),
                Arguments.of("VM", NO_GATES, "{apiGroup: kubevirt.io, kind: VirtualMachine, name: test}"),
                Arguments.of(
                        "backup", NO_GATES, "{apiGroup: backup.kubevirt.io, kind: VirtualMachineBackup, name: test}"),
                // "should accept valid VMTemplate source when both gates enabled"
                Arguments.of(
                        "template, both gates",
                        BOTH_GATES,
                        "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: test-template}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allowed")
    void allowsAsTheAdmitterDoes(String name, String kubevirt, String source) {
        assertTrue(create(cluster(kubevirt), source).allowed(), name);
    }

    static Stream<Arguments> updates() {
        String old =
                "{metadata: {name: exp, namespace: foo}, spec: {source: {apiGroup: v1, kind: PersistentVolumeClaim, name: test}, ttlDuration: 1h}}";
        return Stream.of(
                // "should reject spec update"
                Arguments.of("source renamed", old, old.replace("name: test", "name: baz"), false),
                // "should allow metadata update"
                Arguments.of(
                        "finalizer added",
                        old,
                        old.replace("namespace: foo}", "namespace: foo, finalizers: [finalizer]}"),
                        true),
                // Semantic.DeepEqual compares the decoded metav1.Duration: a respelled TTL is the same spec
                Arguments.of("ttl respelled", old, old.replace("ttlDuration: 1h", "ttlDuration: 60m"), true),
                Arguments.of("ttl changed", old, old.replace("ttlDuration: 1h", "ttlDuration: 2h"), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updates")
    void specIsImmutable(String name, String old, String updated, boolean allowed) {
        Decision decision = validate(
                TestCluster.with(),
                request(
                        "export.kubevirt.io",
                        "v1",
                        "VirtualMachineExport",
                        "virtualmachineexports",
                        "",
                        Operation.UPDATE,
                        updated,
                        old,
                        CAROL));
        assertEquals(allowed, decision.allowed(), name);
        if (!allowed) {
            assertEquals(
                    List.of("spec in immutable after creation"),
                    decision.causes().stream().map(c -> c.message()).toList());
            assertEquals("spec", decision.causes().getFirst().field());
        }
    }

    static final String SNAPSHOT =
            "{apiVersion: snapshot.kubevirt.io/v1beta1, kind: VirtualMachineSnapshot, metadata: {name: snap, namespace: foo}";
    static final String BACKUP =
            "{apiVersion: backup.kubevirt.io/v1alpha1, kind: VirtualMachineBackup, metadata: {name: bk, namespace: foo}";
    static final String TEMPLATE =
            "{apiVersion: template.kubevirt.io/v1beta1, kind: VirtualMachineTemplate, metadata: {name: tpl, namespace: foo}";
    static final String VOLUMES = "includedVolumes: [{volumeName: disk0}]";

    static String pod(String phase) {
        return "{apiVersion: v1, kind: Pod, metadata: {name: inuse-pod, namespace: foo}, "
                + "spec: {volumes: [{name: d, persistentVolumeClaim: {claimName: test-pvc}}]}"
                + (phase == null ? "" : ", status: {phase: " + phase + "}") + "}";
    }

    static Stream<Arguments> sources() {
        String pvc = "{kind: PersistentVolumeClaim, name: test-pvc}";
        String vm = "{apiGroup: kubevirt.io, kind: VirtualMachine, name: web}";
        String snap = "{apiGroup: snapshot.kubevirt.io, kind: VirtualMachineSnapshot, name: snap}";
        String bk = "{apiGroup: backup.kubevirt.io, kind: VirtualMachineBackup, name: bk}";
        String tpl = "{apiGroup: template.kubevirt.io, kind: VirtualMachineTemplate, name: tpl}";
        String haltedVm =
                "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: foo}, spec: {runStrategy: Halted, "
                        + "template: {spec: {volumes: [{name: root, persistentVolumeClaim: {claimName: root}}]}}}}";
        String vmi =
                "{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, metadata: {name: web, namespace: foo}, status: {phase: PHASE}}";
        return Stream.of(
                // pvc-source_test "Should retry if PVC is in use by other pod" (a pod without a phase)
                Arguments.of("PVC, pod without phase", pvc, List.of(pod(null)), false, List.of()),
                // PodsUsingPVCs skips only Succeeded pods
                Arguments.of("PVC, Running pod", pvc, List.of(pod("Running")), false, List.of()),
                Arguments.of("PVC, Pending pod", pvc, List.of(pod("Pending")), false, List.of()),
                Arguments.of("PVC, Failed pod", pvc, List.of(pod("Failed")), false, List.of()),
                Arguments.of("PVC, Succeeded pod", pvc, List.of(pod("Succeeded")), true, List.of()),
                // vm-source_test "Should create VM export, when VM is stopped, but VMI exists": Entries succeeded,
                // failed
                Arguments.of(
                        "VM stopped, VMI Succeeded",
                        vm,
                        List.of(haltedVm, vmi.replace("PHASE", "Succeeded")),
                        true,
                        List.of()),
                Arguments.of(
                        "VM stopped, VMI Failed",
                        vm,
                        List.of(haltedVm, vmi.replace("PHASE", "Failed")),
                        true,
                        List.of()),
                // "Should NOT create VM export, when VM is started"
                Arguments.of("VM started", vm, List.of(haltedVm, vmi.replace("PHASE", "Running")), false, List.of()),
                // vmsnapshot-source_test "... with a valid token and no VMSnapshot"
                Arguments.of(
                        "snapshot missing",
                        snap,
                        List.of(),
                        true,
                        List.of("VirtualMachineSnapshot foo/snap not found; the export waits for it")),
                // "Should update status with no links and not ready if snapshot is not ready"
                Arguments.of(
                        "snapshot not ready",
                        snap,
                        List.of(SNAPSHOT + ", status: {readyToUse: false}}"),
                        true,
                        List.of("VirtualMachineSnapshot foo/snap is not ready to use; the export waits for it")),
                Arguments.of(
                        "snapshot ready", snap, List.of(SNAPSHOT + ", status: {readyToUse: true}}"), true, List.of()),
                // backup-source_test "Should return error if VirtualMachineBackup is not found" / "... status is empty"
                Arguments.of(
                        "backup missing",
                        bk,
                        List.of(),
                        true,
                        List.of("VirtualMachineBackup foo/bk: VMBackup does not exist yet; the export waits for it")),
                Arguments.of(
                        "backup without status",
                        bk,
                        List.of(BACKUP + "}"),
                        true,
                        List.of("VirtualMachineBackup foo/bk: VMBackup is not progressing; the export waits for it")),
                // "Should update VM Export status according to backup source": Entries lacks content, condition
                // missing, condition false
                Arguments.of(
                        "backup lacks content",
                        bk,
                        List.of(BACKUP + ", status: {conditions: [{type: Progressing, status: 'False'}]}}"),
                        true,
                        List.of(
                                "VirtualMachineBackup foo/bk: VMBackup has no included volumes; the export waits for it")),
                Arguments.of(
                        "backup Progressing missing",
                        bk,
                        List.of(BACKUP + ", status: {" + VOLUMES + ", conditions: []}}"),
                        true,
                        List.of(
                                "VirtualMachineBackup foo/bk: VMBackup progressing condition not found; the export waits for it")),
                Arguments.of(
                        "backup Progressing false",
                        bk,
                        List.of(
                                BACKUP + ", status: {" + VOLUMES
                                        + ", conditions: [{type: Progressing, status: 'False', message: Backup encountered a fatal error}]}}"),
                        true,
                        List.of(
                                "VirtualMachineBackup foo/bk: Backup encountered a fatal error; the export waits for it")),
                // "Should create VM export when backup is progressing": a backup of a running VM is never in use
                Arguments.of(
                        "backup progressing, VM running",
                        bk,
                        List.of(
                                BACKUP + ", status: {" + VOLUMES
                                        + ", conditions: [{type: Progressing, status: 'True'}]}}",
                                haltedVm,
                                vmi.replace("PHASE", "Running")),
                        true,
                        List.of()),
                // vmtemplate-source_test "Should NOT create VMTemplate export": Entries "template does not exist", "not
                // ready"
                Arguments.of(
                        "template missing",
                        tpl,
                        List.of(BOTH_GATES),
                        true,
                        List.of("VirtualMachineTemplate foo/tpl not found; the export waits for it")),
                Arguments.of(
                        "template not ready",
                        tpl,
                        List.of(BOTH_GATES, TEMPLATE + ", status: {conditions: [{type: Ready, status: 'False'}]}}"),
                        true,
                        List.of("VirtualMachineTemplate foo/tpl is not ready; the export waits for it")),
                // "Should create VMTemplate export with DVT source PVC": its volumes are not checked for pods
                Arguments.of(
                        "template ready, its PVC mounted",
                        tpl,
                        List.of(
                                BOTH_GATES,
                                pod("Running").replace("test-pvc", "golden"),
                                TEMPLATE
                                        + ", status: {conditions: [{type: Ready, status: 'True'}]}, spec: {virtualMachine: {spec: {template: {spec: "
                                        + "{volumes: [{name: d, persistentVolumeClaim: {claimName: golden}}]}}}}}}"),
                        true,
                        List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sources")
    void sourceInUseAsTheExportControllerSeesIt(
            String name, String source, List<String> objects, boolean allowed, List<String> warnings) {
        Decision decision = create(cluster(objects.toArray(String[]::new)), source);
        assertEquals(allowed, decision.allowed(), name + ": " + decision.message());
        if (!allowed) assertEquals(403, decision.code(), name);
        else assertEquals(warnings, decision.warnings(), name);
    }
}
