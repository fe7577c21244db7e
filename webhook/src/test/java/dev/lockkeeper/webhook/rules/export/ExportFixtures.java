package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
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

/** Requests and cluster objects for the export rules, shaped as KubeVirt sends and stores them. */
final class ExportFixtures {
    static final UserInfo CAROL = new UserInfo("carol", "", List.of("system:authenticated"), Map.of());
    static final UserInfo KUBEVIRT_CONTROLLER = new UserInfo(
            "system:serviceaccount:kubevirt:kubevirt-controller",
            "",
            List.of("system:serviceaccounts", "system:authenticated"),
            Map.of());

    private ExportFixtures() {}

    static AdmissionRequest request(
            String group,
            String version,
            String kind,
            String resource,
            String subresource,
            Operation operation,
            String yaml,
            String oldYaml,
            UserInfo user) {
        ObjectNode object = TestCluster.yaml(yaml);
        return new AdmissionRequest(
                "uid-" + kind,
                new GroupVersionKind(group, version, kind),
                new GroupVersionResource(group, version, resource),
                subresource,
                operation,
                Json.text(object, "metadata", "namespace"),
                Json.text(object, "metadata", "name"),
                user,
                object,
                oldYaml == null ? null : TestCluster.yaml(oldYaml),
                false);
    }

    static AdmissionRequest createExport(String version, String sourceKind, String sourceName, String extraSpec) {
        String apiGroup = switch (sourceKind) {
            case "VirtualMachine" -> "apiGroup: kubevirt.io, ";
            case "VirtualMachineSnapshot" -> "apiGroup: snapshot.kubevirt.io, ";
            default -> "";
        };
        return request(
                "export.kubevirt.io",
                version,
                "VirtualMachineExport",
                "virtualmachineexports",
                "",
                Operation.CREATE,
                "{apiVersion: export.kubevirt.io/" + version
                        + ", kind: VirtualMachineExport, metadata: {name: exp, namespace: team-a}, "
                        + "spec: {source: {" + apiGroup + "kind: " + sourceKind + ", name: " + sourceName + "}"
                        + extraSpec + "}}",
                null,
                CAROL);
    }

    static String vm(String name, String runStrategy, String... claims) {
        StringBuilder volumes = new StringBuilder();
        for (String claim : claims) {
            volumes.append(
                    claim.startsWith("dv:")
                            ? "{name: " + claim.substring(3) + ", dataVolume: {name: " + claim.substring(3) + "}}, "
                            : "{name: " + claim + ", persistentVolumeClaim: {claimName: " + claim + "}}, ");
        }
        return "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: " + name
                + ", namespace: team-a}, spec: {runStrategy: " + runStrategy
                + ", template: {spec: {domain: {devices: {}}, volumes: [" + volumes + "]}}}}";
    }

    static String vmi(String name, String phase) {
        return "{apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, metadata: {name: " + name
                + ", namespace: team-a}, " + "spec: {domain: {devices: {}}}, status: {phase: " + phase + "}}";
    }

    static String pod(String name, String phase, String claim) {
        return "{apiVersion: v1, kind: Pod, metadata: {name: " + name + ", namespace: team-a}, "
                + "spec: {volumes: [{name: data, persistentVolumeClaim: {claimName: " + claim + "}}]}, status: {phase: "
                + phase + "}}";
    }

    static String export(String name, String sourceKind, String sourceName, String phase) {
        String status = phase == null ? "" : ", status: {phase: " + phase + "}";
        return "{apiVersion: export.kubevirt.io/v1beta1, kind: VirtualMachineExport, metadata: {name: " + name
                + ", namespace: team-a, uid: uid-" + name + "}, " + "spec: {source: {kind: " + sourceKind + ", name: "
                + sourceName + "}}" + status + "}";
    }

    static Decision validate(ClusterView cluster, AdmissionRequest request, String policyYaml) {
        Policy policy;
        try {
            policy = dev.lockkeeper.webhook.rules.Rulebook.policyParser().parse("test-policy", policyYaml);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
        return new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING,
                        ExportRules.validating(),
                        cluster,
                        RuleObserver.NONE,
                        () -> policy)
                .decide(request);
    }

    static Decision validate(ClusterView cluster, AdmissionRequest request) {
        return validate(cluster, request, "");
    }
}
