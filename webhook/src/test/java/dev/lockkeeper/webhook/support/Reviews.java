package dev.lockkeeper.webhook.support;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionReviews;
import dev.lockkeeper.webhook.admission.Deadline;
import dev.lockkeeper.webhook.admission.GroupVersionKind;
import dev.lockkeeper.webhook.admission.GroupVersionResource;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Builders for AdmissionRequests and AdmissionReview documents in tests. */
public final class Reviews {
    public static final UserInfo ALICE = new UserInfo(
            "alice", "uid-alice", List.of("developers", "system:authenticated"), Map.of("scopes", List.of("clone")));

    private Reviews() {}

    public static AdmissionRequest dataVolume(
            Operation operation, String namespace, ObjectNode dv, ObjectNode old, UserInfo user) {
        return new AdmissionRequest(
                "uid-" + operation,
                new GroupVersionKind("cdi.kubevirt.io", "v1beta1", "DataVolume"),
                new GroupVersionResource("cdi.kubevirt.io", "v1beta1", "datavolumes"),
                "",
                operation,
                namespace,
                Json.text(dv, "metadata", "name"),
                user,
                dv,
                old,
                false);
    }

    public static AdmissionRequest createDataVolume(String namespace, String yaml) {
        return dataVolume(Operation.CREATE, namespace, TestCluster.yaml(yaml), null, ALICE);
    }

    public static AdmissionRequest virtualMachine(
            Operation operation, String namespace, ObjectNode vm, ObjectNode old) {
        return new AdmissionRequest(
                "uid-vm",
                new GroupVersionKind("kubevirt.io", "v1", "VirtualMachine"),
                new GroupVersionResource("kubevirt.io", "v1", "virtualmachines"),
                "",
                operation,
                namespace,
                Json.text(vm, "metadata", "name"),
                new UserInfo("carol", "", List.of("system:authenticated"), Map.of()),
                vm,
                old,
                false);
    }

    /** What a chain gives a rule for {@code request}: the default policy and a deadline no test reaches. */
    public static ReviewContext context(AdmissionRequest request, ClusterView cluster) {
        return context(request, cluster, Policy.DEFAULT);
    }

    public static ReviewContext context(AdmissionRequest request, ClusterView cluster, Policy policy) {
        return ReviewContext.of(request, policy, Deadline.after(Duration.ofMinutes(1)), cluster);
    }

    /** The AdmissionReview JSON document the API server would POST for {@code request}. */
    /** A VirtualMachine in team-b whose {@code count} dataVolumeTemplates each clone a PVC of golden-images. */
    public static ObjectNode vmCloningFromGoldenImages(int count) {
        ObjectNode vm = Json.MAPPER
                .createObjectNode()
                .put("apiVersion", "kubevirt.io/v1")
                .put("kind", "VirtualMachine");
        vm.putObject("metadata").put("name", "web").put("namespace", "team-b");
        ObjectNode spec = vm.putObject("spec");
        spec.putObject("template").putObject("spec").putObject("domain").putObject("devices");
        var templates = spec.putArray("dataVolumeTemplates");
        for (int i = 0; i < count; i++) {
            ObjectNode template = templates.addObject();
            template.putObject("metadata").put("name", "disk-" + i);
            template.putObject("spec")
                    .putObject("source")
                    .putObject("pvc")
                    .put("namespace", "golden-images")
                    .put("name", "image-" + i);
        }
        return vm;
    }

    public static ObjectNode document(AdmissionRequest request) {
        ObjectNode review =
                Json.object().put("apiVersion", AdmissionReviews.API_VERSION).put("kind", AdmissionReviews.KIND);
        ObjectNode body = review.putObject("request");
        body.put("uid", request.uid());
        body.putObject("kind")
                .put("group", request.kind().group())
                .put("version", request.kind().version())
                .put("kind", request.kind().kind());
        body.putObject("resource")
                .put("group", request.resource().group())
                .put("version", request.resource().version())
                .put("resource", request.resource().resource());
        if (!request.subResource().isEmpty()) body.put("subResource", request.subResource());
        body.put("operation", request.operation().name())
                .put("namespace", request.namespace())
                .put("name", request.name());
        ObjectNode user =
                body.putObject("userInfo").put("username", request.userInfo().username());
        request.userInfo().groups().forEach(user.putArray("groups")::add);
        if (!request.userInfo().extra().isEmpty()) {
            ObjectNode extra = user.putObject("extra");
            request.userInfo().extra().forEach((k, v) -> v.forEach(extra.withArray(k)::add));
        }
        if (request.object() != null) body.set("object", request.object());
        if (request.oldObject() != null) body.set("oldObject", request.oldObject());
        body.put("dryRun", request.dryRun());
        return review;
    }
}
