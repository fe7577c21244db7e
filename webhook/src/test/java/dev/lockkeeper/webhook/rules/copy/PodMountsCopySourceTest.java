package dev.lockkeeper.webhook.rules.copy;

import static dev.lockkeeper.webhook.rules.copy.CopyFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PodMountsCopySourceTest {
    /** Copies reading golden-images/fedora-40 (one running, one new) and golden-images/done (finished). */
    final TestCluster cluster = TestCluster.with(
            copy("team-a", "fedora-copy", "namespace: golden-images, name: fedora-40", "CloneInProgress"),
            copy("team-b", "fedora-too", "namespace: golden-images, name: fedora-40", null),
            copy("golden-images", "local", "name: rhel-9", "Pending"),
            copy("team-a", "done", "namespace: golden-images, name: old", "Succeeded"),
            copy("team-b", "failed", "namespace: golden-images, name: old", "Failed"));

    static String copy(String namespace, String name, String source, String phase) {
        return "{apiVersion: lockkeeper.dev/v1alpha1, kind: VolumeCopy, metadata: {name: " + name + ", namespace: "
                + namespace + "}, spec: {source: {pvc: {" + source + "}}}"
                + (phase == null ? "" : ", status: {phase: " + phase + "}") + "}";
    }

    /** A pod in golden-images whose volume {@code data} is {@code claim}, used by {@code containers}. */
    static String pod(String metadataExtra, String claim, String volumeExtra, String containers) {
        return "{apiVersion: v1, kind: Pod, metadata: {name: writer, namespace: golden-images" + metadataExtra + "},"
                + " spec: {volumes: [{name: cfg, configMap: {name: c}}, {name: data, persistentVolumeClaim: {claimName: "
                + claim + volumeExtra + "}}], containers: [" + containers + "]}}";
    }

    static final String WRITES =
            "{name: app, volumeMounts: [{name: cfg, mountPath: /cfg}, {name: data, mountPath: /data}]}";
    static final String READS = "{name: app, volumeMounts: [{name: data, mountPath: /data, readOnly: true}]}";
    static final String HOLDER =
            ", labels: {app.kubernetes.io/managed-by: lockkeeper, lockkeeper.dev/role: source-holder}";

    Decision validate(String pod, UserInfo user) {
        return run(
                AdmissionChain.Stage.VALIDATING,
                Rulebook.validating(new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE)),
                cluster,
                createPod(pod, user));
    }

    static final String REFUSED = "Pod golden-images/writer cannot mount PersistentVolumeClaim golden-images/fedora-40"
            + " writable while VolumeCopy team-a/fedora-copy (CloneInProgress), team-b/fedora-too (no status yet)"
            + " copies from it; mount it read-only (persistentVolumeClaim.readOnly: true) or wait until the copy has"
            + " Succeeded or Failed";

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("a writable mount", pod("", "fedora-40", "", WRITES), ALICE, REFUSED),
                Arguments.of(
                        "one writable mount beside a read-only one",
                        pod("", "fedora-40", "", READS + ", " + WRITES.replace("app", "sidecar")),
                        ALICE,
                        REFUSED),
                Arguments.of(
                        "a writable mount in an init container",
                        pod("", "fedora-40", "", READS)
                                .replace("containers: [", "initContainers: [" + WRITES + "], containers: ["),
                        ALICE,
                        REFUSED),
                Arguments.of(
                        "a raw block device",
                        pod("", "fedora-40", "", "{name: app, volumeDevices: [{name: data, devicePath: /dev/xvda}]}"),
                        ALICE,
                        REFUSED),
                Arguments.of(
                        "a same-namespace copy's source, the namespace left out",
                        pod("", "rhel-9", "", WRITES),
                        ALICE,
                        "Pod golden-images/writer cannot mount PersistentVolumeClaim golden-images/rhel-9 writable"
                                + " while VolumeCopy golden-images/local (Pending) copies from it; mount it read-only"
                                + " (persistentVolumeClaim.readOnly: true) or wait until the copy has Succeeded or Failed"),
                Arguments.of("holder labels set by someone else", pod(HOLDER, "fedora-40", "", WRITES), ALICE, REFUSED),
                Arguments.of(
                        "holder labels and a same-named service account of another namespace",
                        pod(HOLDER, "fedora-40", "", WRITES),
                        serviceAccount("team-a", "lockkeeper-controller", java.util.Map.of()),
                        REFUSED),
                Arguments.of(
                        "the controller, without the holder label",
                        pod("", "fedora-40", "", WRITES),
                        CONTROLLER,
                        REFUSED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void aWritableMountOfAnActiveCopysSourceIsRefused(String name, String pod, UserInfo user, String message) {
        Decision decision = validate(pod, user);
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(message, decision.message());
        assertEquals(List.of(new Cause("FieldValueForbidden", "spec.volumes", message)), decision.causes());
        assertEquals("pod-mounts-copy-source", decision.decidedBy());
    }

    static Stream<Arguments> allowed() {
        return Stream.of(
                Arguments.of("every mount read-only", pod("", "fedora-40", "", READS), ALICE),
                Arguments.of("the claim read-only", pod("", "fedora-40", ", readOnly: true", WRITES), ALICE),
                Arguments.of(
                        "a block device of a read-only claim",
                        pod(
                                "",
                                "fedora-40",
                                ", readOnly: true",
                                "{name: app, volumeDevices: [{name: data, devicePath: /dev/xvda}]}"),
                        ALICE),
                Arguments.of("declared but mounted by no container", pod("", "fedora-40", "", "{name: app}"), ALICE),
                Arguments.of("only finished copies read it", pod("", "old", "", WRITES), ALICE),
                Arguments.of("no copy reads it", pod("", "scratch", "", WRITES), ALICE),
                Arguments.of("the controller's own holder pod", pod(HOLDER, "fedora-40", "", WRITES), CONTROLLER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allowed")
    void readingAndUnrelatedClaimsPass(String name, String pod, UserInfo user) {
        assertTrue(validate(pod, user).allowed(), name);
    }

    @org.junit.jupiter.api.Test
    void aClaimOfTheSameNameInAnotherNamespaceIsNotTheSource() {
        assertTrue(validate(
                        pod("", "fedora-40", "", WRITES).replace("namespace: golden-images", "namespace: team-a"),
                        ALICE)
                .allowed());
    }
}
