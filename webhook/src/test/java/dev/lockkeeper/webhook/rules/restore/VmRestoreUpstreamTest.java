package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * KubeVirt v1.9 {@code pkg/storage/admitters/vmrestore_test.go}, case by case (each names the upstream
 * {@code It}/{@code Entry} it mirrors), in embedded mode; then what Lockkeeper adds for a target whose VMI
 * exists, per {@code targetReadinessPolicy} (the restore controller's {@code handleVMRestoreTargetNotReady}).
 * Not ported: "should reject invalid request resource" (a rule only sees what its Match names) and "Should reject
 * restore when using backend storage and restoring to different VM" (see the README's deviations).
 */
class VmRestoreUpstreamTest {
    static final String WEB = "{apiGroup: kubevirt.io, kind: VirtualMachine, name: web}";

    static ObjectNode restore(String name, String spec) {
        return TestCluster.yaml(
                "{apiVersion: snapshot.kubevirt.io/v1beta1, kind: VirtualMachineRestore, metadata: {name: " + name
                        + ", namespace: default}, spec: " + spec + "}");
    }

    static String spec(String target, String extra) {
        return "{target: " + target + ", virtualMachineSnapshotName: snap" + extra + "}";
    }

    static String vmi(String phase) {
        return "{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, metadata: {name: web, namespace: default}, status: {phase: "
                + phase + "}}";
    }

    static Decision create(TestCluster cluster, String spec) {
        return validate(cluster, RestoreReviews.create(restore("restore", spec)));
    }

    @Test
    void withADisabledFeatureGateRejectsAnything() {
        // "With a disabled feature gate" / "should reject anything"
        TestCluster cluster = TestCluster.with(
                "{apiVersion: kubevirt.io/v1, kind: KubeVirt, metadata: {name: kubevirt, namespace: kubevirt}, "
                        + "spec: {configuration: {developerConfiguration: {disabledFeatureGates: [Snapshot]}}}}");
        Decision decision = create(cluster, "{}");
        assertEquals(400, decision.code());
        assertEquals("Snapshot/Restore feature gate not enabled", decision.message());
        assertTrue(
                create(TestCluster.with(), spec(WEB, "")).allowed(),
                "Snapshot is Beta: on without a KubeVirt CR saying otherwise");
    }

    static Stream<Arguments> rejected() {
        String patch = ", patches: ['[{\"op\": \"replace\", \"path\": \"%s\", \"value\": \"some-value\"}]']";
        return Stream.of(
                // "should reject missing apigroup"
                Arguments.of(
                        "missing apiGroup",
                        spec("{kind: VirtualMachine, name: web}", ""),
                        List.of(Cause.notFound("spec.target.apiGroup", "missing apiGroup"))),
                // "should reject invalid kind"
                Arguments.of(
                        "invalid kind",
                        spec("{apiGroup: kubevirt.io, kind: VirtualMachineInstance, name: web}", ""),
                        List.of(Cause.invalid("spec.target.kind", "invalid kind"))),
                // "should reject invalid apiGroup"
                Arguments.of(
                        "invalid apiGroup",
                        spec("{apiGroup: foo.bar, kind: VirtualMachine, name: web}", ""),
                        List.of(Cause.invalid("spec.target.apiGroup", "invalid apiGroup"))),
                // "should reject volume overrides if no parameter is specified"
                Arguments.of(
                        "empty override",
                        spec(WEB, ", volumeRestoreOverrides: [{}]"),
                        List.of(
                                Cause.invalid(
                                        "spec.volumeRestoreOverrides[0].volumeName", "must provide a volume name"),
                                Cause.invalid(
                                        "spec.volumeRestoreOverrides[0]",
                                        "must provide at least one overriden field"))),
                // "should reject invalid volume restore policy"
                Arguments.of(
                        "invalid volume restore policy",
                        spec(WEB, ", volumeRestorePolicy: invalid-policy"),
                        List.of(Cause.invalid(
                                "spec.volumeRestorePolicy", "volume restore policy \"invalid-policy\" doesn't exist"))),
                // "should reject invalid volume ownership policy"
                Arguments.of(
                        "invalid volume ownership policy",
                        spec(WEB, ", volumeOwnershipPolicy: invalid-policy"),
                        List.of(Cause.invalid(
                                "spec.volumeOwnershipPolicy",
                                "volume ownership policy \"invalid-policy\" doesn't exist"))),
                // "should reject patching elements not under /spec/:": Entries metadata, name, kind, status, ready
                // status
                Arguments.of(
                        "patch /metadata",
                        spec(WEB, patch.formatted("/metadata")),
                        List.of(Cause.invalid(
                                "spec.patches",
                                "patching is valid only for elements under /spec/ only:  \"path\": \"/metadata\""))),
                Arguments.of(
                        "patch /metadata/name",
                        spec(WEB, patch.formatted("/metadata/name")),
                        List.of(
                                Cause.invalid(
                                        "spec.patches",
                                        "patching is valid only for elements under /spec/ only:  \"path\": \"/metadata/name\""))),
                Arguments.of(
                        "patch /kind",
                        spec(WEB, patch.formatted("/kind")),
                        List.of(Cause.invalid(
                                "spec.patches",
                                "patching is valid only for elements under /spec/ only:  \"path\": \"/kind\""))),
                Arguments.of(
                        "patch /status",
                        spec(WEB, patch.formatted("/status")),
                        List.of(Cause.invalid(
                                "spec.patches",
                                "patching is valid only for elements under /spec/ only:  \"path\": \"/status\""))),
                Arguments.of(
                        "patch /status/ready",
                        spec(WEB, patch.formatted("/status/ready")),
                        List.of(
                                Cause.invalid(
                                        "spec.patches",
                                        "patching is valid only for elements under /spec/ only:  \"path\": \"/status/ready\""))),
                // Entry "patch to remove api version"
                Arguments.of(
                        "remove /apiVersion",
                        spec(WEB, ", patches: ['[{\"op\": \"remove\", \"path\": \"/apiVersion\"}]']"),
                        List.of(
                                Cause.invalid(
                                        "spec.patches",
                                        "patching is valid only for elements under /spec/ only:  \"path\": \"/apiVersion\"}]"))),
                // "should reject an invalid patch"
                Arguments.of(
                        "invalid patch",
                        spec(
                                WEB,
                                ", patches: ['{\"op\": \"remove\", \"path\": \"/spec/running\" : \"illegal-field\"}']"),
                        List.of(Cause.invalid(
                                "spec.patches",
                                "patch format is not valid - one \":\" expected in a single key-value json patch:  "
                                        + "\"path\": \"/spec/running\" : \"illegal-field\""))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void rejectsAsTheAdmitterDoes(String name, String spec, List<Cause> causes) {
        Decision decision = create(TestCluster.with(), spec);
        assertEquals(422, decision.code(), name);
        assertEquals(causes, decision.causes(), name);
    }

    static Stream<Arguments> allowed() {
        String patch = ", patches: ['[{\"op\": \"%s\", \"path\": \"%s\", \"value\": \"some-value\"}]']";
        return Stream.of(
                // "should accept when snapshot does not exist" / "should accept when VM is not running"
                Arguments.of("plain restore", spec(WEB, "")),
                // "should accept correct volume restore policy" / "should accept PrefixTargetName volume restore
                // policy"
                Arguments.of("InPlace", spec(WEB, ", volumeRestorePolicy: InPlace")),
                Arguments.of("RandomizeNames", spec(WEB, ", volumeRestorePolicy: RandomizeNames")),
                Arguments.of("PrefixTargetName", spec(WEB, ", volumeRestorePolicy: PrefixTargetName")),
                // "should accept correct volume ownership policy"
                Arguments.of("ownership VirtualMachine", spec(WEB, ", volumeOwnershipPolicy: VirtualMachine")),
                Arguments.of("ownership None", spec(WEB, ", volumeOwnershipPolicy: None")),
                // an override naming a volume and one field
                Arguments.of(
                        "override with restoreName",
                        spec(WEB, ", volumeRestoreOverrides: [{volumeName: disk, restoreName: new-disk}]")),
                Arguments.of(
                        "override with empty labels",
                        spec(WEB, ", volumeRestoreOverrides: [{volumeName: disk, labels: {}}]")),
                // "should allow patching elements under /spec/:": Entries MAC, running, instancetype, label, annotation
                Arguments.of(
                        "patch MAC",
                        spec(
                                WEB,
                                patch.formatted(
                                        "replace", "/spec/template/spec/domain/devices/interfaces/0/macAddress"))),
                Arguments.of("add running", spec(WEB, patch.formatted("add", "/spec/running"))),
                Arguments.of(
                        "remove instancetype",
                        spec(WEB, ", patches: ['[{\"op\": \"remove\", \"path\": \"/spec/instancetype\"}]']")),
                Arguments.of("replace a label", spec(WEB, patch.formatted("replace", "/metadata/labels/key"))),
                Arguments.of(
                        "remove an annotation",
                        spec(WEB, ", patches: ['[{\"op\": \"remove\", \"path\": \"/metadata/annotations/key\"}]']")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allowed")
    void allowsAsTheAdmitterDoes(String name, String spec) {
        Decision decision = create(TestCluster.with(), spec);
        assertTrue(decision.allowed(), name + ": " + decision.message());
    }

    @Test
    void rejectsIfARestoreOfTheTargetIsInProgress() {
        // "should reject if restore in progress"
        String other =
                "{apiVersion: snapshot.kubevirt.io/v1beta1, kind: VirtualMachineRestore, metadata: {name: restore-in-process, namespace: default}, "
                        + "spec: " + spec(WEB, "");
        Decision decision = create(TestCluster.with(other + "}"), spec(WEB, ""));
        assertEquals(
                List.of(Cause.invalid("spec.target", "VirtualMachineRestore \"restore-in-process\" in progress")),
                decision.causes());
        assertTrue(
                create(TestCluster.with(other + ", status: {complete: true}}"), spec(WEB, ""))
                        .allowed(),
                "a complete restore is done");
        assertTrue(
                create(TestCluster.with(other.replace("name: web", "name: db") + "}"), spec(WEB, ""))
                        .allowed(),
                "another target");
    }

    @Test
    void specIsImmutable() {
        // "should reject spec update" / "should allow metadata update"
        ObjectNode old = restore("restore", spec(WEB, ""));
        ObjectNode changed = old.deepCopy();
        changed.withObject("/spec").put("virtualMachineSnapshotName", "other");
        Decision decision = validate(TestCluster.with(vmi("Running")), update(old, changed));
        assertEquals(List.of(Cause.invalid("spec", "spec in immutable after creation")), decision.causes());
        ObjectNode relabelled = old.deepCopy();
        relabelled.withObject("/metadata").putObject("labels").put("a", "b");
        relabelled.putObject("status").put("complete", true);
        assertTrue(validate(TestCluster.with(vmi("Running")), update(old, relabelled))
                .allowed());
    }

    static Stream<Arguments> readiness() {
        String notStopped = "VirtualMachine \"web\" is not stopped (its VirtualMachineInstance is Running): ";
        return Stream.of(
                // "should allow when VM is running": the default policy waits its grace period
                Arguments.of(
                        "no policy",
                        "",
                        true,
                        notStopped
                                + "the restore fails unless it is stopped within 5m (targetReadinessPolicy WaitGracePeriod); virtctl stop web -n default"),
                Arguments.of(
                        "WaitGracePeriod",
                        ", targetReadinessPolicy: WaitGracePeriod",
                        true,
                        notStopped
                                + "the restore fails unless it is stopped within 5m (targetReadinessPolicy WaitGracePeriod); virtctl stop web -n default"),
                Arguments.of(
                        "StopTarget",
                        ", targetReadinessPolicy: StopTarget",
                        true,
                        notStopped + "KubeVirt stops it, then restores (targetReadinessPolicy StopTarget)"),
                Arguments.of(
                        "WaitEventually",
                        ", targetReadinessPolicy: WaitEventually",
                        true,
                        notStopped
                                + "the restore waits until it is stopped (targetReadinessPolicy WaitEventually); virtctl stop web -n default"),
                Arguments.of(
                        "FailImmediate",
                        ", targetReadinessPolicy: FailImmediate",
                        false,
                        notStopped
                                + "targetReadinessPolicy FailImmediate would fail the restore at once; stop it first (virtctl stop web -n default) "
                                + "or use targetReadinessPolicy StopTarget"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readiness")
    void aTargetWithAVmiIsJudgedByItsReadinessPolicy(String name, String policy, boolean allowed, String message) {
        Decision decision = create(TestCluster.with(vmi("Running")), spec(WEB, policy));
        assertEquals(allowed, decision.allowed(), name);
        if (allowed) assertEquals(List.of(message), decision.warnings(), name);
        else {
            assertEquals(message, decision.message());
            assertEquals(
                    "spec.targetReadinessPolicy", decision.causes().getFirst().field());
        }
        Decision stopped = create(TestCluster.with(), spec(WEB, policy));
        assertTrue(
                stopped.allowed() && stopped.warnings().isEmpty(),
                name + ": a target without a VMI is ready under every policy");
    }

    @Test
    void aFinishedVmiStillHoldsTheRestore() {
        // vmRestoreTarget.Ready is "no VMI exists": a Succeeded VMI still has to go before KubeVirt restores
        Decision decision =
                create(TestCluster.with(vmi("Succeeded")), spec(WEB, ", targetReadinessPolicy: FailImmediate"));
        assertFalse(decision.allowed());
        assertTrue(
                decision.message()
                        .startsWith("VirtualMachine \"web\" is not stopped (its VirtualMachineInstance is Succeeded)"),
                decision.message());
    }
}
