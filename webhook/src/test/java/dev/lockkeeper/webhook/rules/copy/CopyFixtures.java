package dev.lockkeeper.webhook.rules.copy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.GroupVersionKind;
import dev.lockkeeper.webhook.admission.GroupVersionResource;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.Map;

/** Requests for the copy rules, shaped as the API server sends them, and the chains that judge them. */
final class CopyFixtures {
    static final UserInfo ALICE = new UserInfo("alice", "uid-alice", List.of("system:authenticated"), Map.of());
    static final UserInfo CONTROLLER = serviceAccount("lockkeeper", "lockkeeper-controller", Map.of());

    private CopyFixtures() {}

    static UserInfo serviceAccount(String namespace, String name, Map<String, List<String>> extra) {
        return new UserInfo(
                "system:serviceaccount:" + namespace + ":" + name,
                "uid-" + name,
                List.of("system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"),
                extra);
    }

    /** The agent's bound token on {@code node}, as the API server reports it (Kubernetes 1.32+). */
    static UserInfo agentOn(String node) {
        return serviceAccount(
                "lockkeeper",
                "lockkeeper-agent",
                Map.of(
                        "authentication.kubernetes.io/node-name", List.of(node),
                        "authentication.kubernetes.io/pod-name", List.of("lockkeeper-agent-x7k2p")));
    }

    static AdmissionRequest request(
            String group,
            String kind,
            String resource,
            String subresource,
            Operation operation,
            String namespace,
            String name,
            ObjectNode object,
            ObjectNode old,
            UserInfo user) {
        return new AdmissionRequest(
                "uid-" + kind + "-" + operation,
                new GroupVersionKind(group, group.isEmpty() ? "v1" : "v1alpha1", kind),
                new GroupVersionResource(group, group.isEmpty() ? "v1" : "v1alpha1", resource),
                subresource,
                operation,
                namespace,
                name,
                user,
                object,
                old,
                false);
    }

    static AdmissionRequest volumeCopy(Operation operation, String yaml, String oldYaml, UserInfo user) {
        ObjectNode copy = TestCluster.yaml(yaml);
        return request(
                "lockkeeper.dev",
                "VolumeCopy",
                "volumecopies",
                "",
                operation,
                Json.text(copy, "metadata", "namespace"),
                Json.text(copy, "metadata", "name"),
                copy,
                oldYaml == null ? null : TestCluster.yaml(oldYaml),
                user);
    }

    static AdmissionRequest createPod(String yaml, UserInfo user) {
        ObjectNode pod = TestCluster.yaml(yaml);
        return request(
                "",
                "Pod",
                "pods",
                "",
                Operation.CREATE,
                Json.text(pod, "metadata", "namespace"),
                Json.text(pod, "metadata", "name"),
                pod,
                null,
                user);
    }

    static Decision run(
            AdmissionChain.Stage stage, List<AdmissionRule> rules, ClusterView cluster, AdmissionRequest r) {
        return new AdmissionChain(stage, rules, cluster, RuleObserver.NONE, () -> Policy.DEFAULT).decide(r);
    }
}
