package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.rules.clone.VirtualMachineCloneAuthorization;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VirtualMachineCloneAuthorizationTest {
    static final String VM = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: web, namespace: team-b}
            spec:
              dataVolumeTemplates:
              - metadata: {name: web-root}
                spec:
                  source: {pvc: {namespace: golden-images, name: fedora-40}}
                  storage: {resources: {requests: {storage: 10Gi}}}
              template:
                spec:
                  domain: {devices: {}}
                  volumes: [{name: root, dataVolume: {name: web-root}}]
            """;

    final VirtualMachineCloneAuthorization rule =
            new VirtualMachineCloneAuthorization(new CloneAuthorizer("lockkeeper:clone-source"));

    Verdict admit(TestCluster cluster, Operation operation, String vm, String old) {
        return rule.admit(Reviews.context(
                Reviews.virtualMachine(
                        operation, "team-b", TestCluster.yaml(vm), old == null ? null : TestCluster.yaml(old)),
                cluster));
    }

    @Test
    void authorizesTheDefaultServiceAccountWithItsImplicitGroups() {
        TestCluster cluster = TestCluster.with().grant("datavolumes/source");
        assertInstanceOf(Verdict.Allow.class, admit(cluster, Operation.CREATE, VM, null));
        assertEquals(
                List.of(new AccessReview(
                        "system:serviceaccount:team-b:default",
                        List.of("system:serviceaccounts", "system:serviceaccounts:team-b", "system:authenticated"),
                        Map.of(),
                        "golden-images",
                        "create",
                        "cdi.kubevirt.io",
                        "datavolumes",
                        "source",
                        "fedora-40")),
                cluster.reviews());
    }

    @Test
    void usesTheServiceAccountFromTheTemplateOrItsServiceAccountVolume() {
        TestCluster fromVolume = TestCluster.with().grant("datavolumes/source");
        admit(
                fromVolume,
                Operation.CREATE,
                VM.replace(
                        "volumes: [{name: root, dataVolume: {name: web-root}}]",
                        "volumes: [{name: root, dataVolume: {name: web-root}}, {name: sa, serviceAccount: {serviceAccountName: builder}}]"),
                null);
        assertEquals(
                "system:serviceaccount:team-b:builder",
                fromVolume.reviews().getFirst().user());

        TestCluster explicit = TestCluster.with().grant("datavolumes/source");
        admit(
                explicit,
                Operation.CREATE,
                VM.replace("domain: {devices: {}}", "domain: {devices: {}}\n      serviceAccountName: runner"),
                null);
        assertEquals(
                "system:serviceaccount:team-b:runner",
                explicit.reviews().getFirst().user());
    }

    @Test
    void deniedTemplateIsForbiddenOnItsField() {
        Verdict verdict = admit(TestCluster.with(), Operation.CREATE, VM, null);
        Verdict.Deny deny = assertInstanceOf(Verdict.Deny.class, verdict);
        assertEquals(403, deny.code());
        assertEquals("spec.dataVolumeTemplates[0]", deny.causes().getFirst().field());
        assertTrue(
                deny.message()
                        .startsWith("Authorization failed, message is: User system:serviceaccount:team-b:default "
                                + "has insufficient permissions in clone source namespace golden-images."),
                deny.message());
        assertTrue(deny.message().endsWith("--serviceaccount=team-b:default"), deny.message());
    }

    @Test
    void embeddedNamespaceMustMatchTheVm() {
        Verdict verdict = admit(
                TestCluster.with().grant("datavolumes/source"),
                Operation.CREATE,
                VM.replace("metadata: {name: web-root}", "metadata: {name: web-root, namespace: team-a}"),
                null);
        Verdict.Deny deny = assertInstanceOf(Verdict.Deny.class, verdict);
        assertEquals(422, deny.code());
        assertEquals("Embedded DataVolume namespace team-a differs from VM namespace team-b", deny.message());
        assertEquals("spec.dataVolumeTemplates[0]", deny.causes().getFirst().field());
    }

    @Test
    void unchangedTemplatesOnUpdateAreNotRechecked() {
        TestCluster cluster = TestCluster.with();
        String running =
                VM.replace("spec:\n  dataVolumeTemplates", "spec:\n  runStrategy: Always\n  dataVolumeTemplates");
        assertInstanceOf(Verdict.Allow.class, admit(cluster, Operation.UPDATE, running, VM));
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void unchangedTemplatesAreRecheckedWhenTheServiceAccountChanges() {
        TestCluster cluster = TestCluster.with();
        String otherAccount =
                VM.replace("domain: {devices: {}}", "domain: {devices: {}}\n      serviceAccountName: builder");
        assertInstanceOf(Verdict.Deny.class, admit(cluster, Operation.UPDATE, otherAccount, VM));
        assertEquals(
                "system:serviceaccount:team-b:builder",
                cluster.reviews().getFirst().user());
    }

    @Test
    void changedTemplateOnUpdateIsChecked() {
        TestCluster cluster = TestCluster.with();
        String changed = VM.replace("storage: 10Gi", "storage: 20Gi");
        assertInstanceOf(Verdict.Deny.class, admit(cluster, Operation.UPDATE, changed, VM));
    }

    @Test
    void templatesWhoseDataVolumeExistsAreSkipped() {
        TestCluster cluster = TestCluster.with("""
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: web-root, namespace: team-b}
                spec: {}
                """);
        assertInstanceOf(Verdict.Allow.class, admit(cluster, Operation.CREATE, VM, null));
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void everyFailingTemplateIsReported() {
        String twoTemplates = VM.replace("""
                  template:
                """, """
                  - metadata: {name: web-data, namespace: team-a}
                    spec: {source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}
                  template:
                """);
        Verdict.Deny deny =
                assertInstanceOf(Verdict.Deny.class, admit(TestCluster.with(), Operation.CREATE, twoTemplates, null));
        assertEquals(
                List.of("spec.dataVolumeTemplates[0]", "spec.dataVolumeTemplates[1]"),
                deny.causes().stream().map(c -> c.field()).toList());
        assertEquals(403, deny.code());
    }

    @Test
    void vmWithoutTemplatesOrWithSameNamespaceClonesPasses() {
        TestCluster cluster = TestCluster.with();
        ObjectNode vm = TestCluster.yaml("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: plain, namespace: team-b}
                spec: {template: {spec: {domain: {devices: {}}}}}
                """);
        assertInstanceOf(
                Verdict.Allow.class,
                rule.admit(Reviews.context(Reviews.virtualMachine(Operation.CREATE, "team-b", vm, null), cluster)));
        assertInstanceOf(
                Verdict.Allow.class,
                admit(cluster, Operation.CREATE, VM.replace("namespace: golden-images", "namespace: team-b"), null));
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void failingReviewFailsClosed() {
        Verdict.Deny deny = assertInstanceOf(
                Verdict.Deny.class, admit(TestCluster.with().authorizationUnavailable(), Operation.CREATE, VM, null));
        assertEquals(403, deny.code());
        assertTrue(deny.message().contains("authorization could not be checked"), deny.message());
    }
}
