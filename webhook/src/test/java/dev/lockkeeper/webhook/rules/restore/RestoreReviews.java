package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.GroupVersionKind;
import dev.lockkeeper.webhook.admission.GroupVersionResource;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.TestCluster;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Objects as a Velero restore creates them, the reviews the API server sends for them, and the
 * restore rules run through the same chains the server uses.
 */
final class RestoreReviews {
    static final UserInfo VELERO =
            new UserInfo("system:serviceaccount:velero:velero", "", List.of("system:serviceaccounts"), Map.of());
    /** A Velero Restore without plugin switches, and one with all of them. */
    static final String PLAIN_RESTORE = """
            apiVersion: velero.io/v1
            kind: Restore
            metadata: {name: plain, namespace: velero}
            spec: {backupName: nightly}
            """;

    static final String PLUGIN_RESTORE = """
            apiVersion: velero.io/v1
            kind: Restore
            metadata:
              name: plugin
              namespace: velero
              labels:
                velero.kubevirt.io/clear-mac-address: "true"
                velero.kubevirt.io/generate-new-firmware-uuid: "true"
                velero.kubevirt.io/restore-run-strategy: Halted
            spec: {backupName: nightly}
            """;

    private RestoreReviews() {}

    /**
     * What Velero does to a backed-up object before creating it: server-set metadata and
     * ownerReferences stripped, backup and restore labels added; status kept.
     */
    static ObjectNode restored(String backedUpYaml, String restoreName) {
        ObjectNode object = created(backedUpYaml);
        ObjectNode labels = ((ObjectNode) object.get("metadata")).withObject("/labels");
        labels.put("velero.io/backup-name", "nightly");
        labels.put(RestoreKeys.VELERO_RESTORE_NAME, restoreName);
        return object;
    }

    /** The same object created by hand from a {@code kubectl get -o yaml}: server-set metadata stripped, no restore labels. */
    static ObjectNode created(String backedUpYaml) {
        ObjectNode object = TestCluster.yaml(backedUpYaml);
        ((ObjectNode) object.get("metadata"))
                .remove(List.of(
                        "uid",
                        "resourceVersion",
                        "creationTimestamp",
                        "generation",
                        "ownerReferences",
                        "managedFields"));
        return object;
    }

    static AdmissionRequest create(ObjectNode object) {
        return request(Operation.CREATE, object, null);
    }

    static AdmissionRequest update(ObjectNode old, ObjectNode object) {
        return request(Operation.UPDATE, object, old);
    }

    private static AdmissionRequest request(Operation operation, ObjectNode object, ObjectNode old) {
        String apiVersion = Json.text(object, "apiVersion"), kind = Json.text(object, "kind");
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        // Every kind here pluralises by adding "s".
        String resource = kind.toLowerCase(Locale.ROOT) + "s";
        return new AdmissionRequest(
                "uid-" + kind,
                new GroupVersionKind(group, version, kind),
                new GroupVersionResource(group, version, resource),
                "",
                operation,
                Json.text(object, "metadata", "namespace"),
                Json.text(object, "metadata", "name"),
                VELERO,
                object,
                old,
                false);
    }

    static Decision mutate(TestCluster cluster, AdmissionRequest request) {
        return mutate(cluster, Policy.DEFAULT, request);
    }

    static Decision mutate(TestCluster cluster, Policy policy, AdmissionRequest request) {
        return new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        RestoreRules.mutating(),
                        cluster,
                        RuleObserver.NONE,
                        () -> policy)
                .decide(request);
    }

    static Decision validate(TestCluster cluster, AdmissionRequest request) {
        return validate(cluster, Policy.DEFAULT, request);
    }

    static Decision validate(TestCluster cluster, Policy policy, AdmissionRequest request) {
        return new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING,
                        RestoreRules.validating(),
                        cluster,
                        RuleObserver.NONE,
                        () -> policy)
                .decide(request);
    }

    /** The object the API server stores after applying the decision's patch. */
    static ObjectNode patched(AdmissionRequest request, Decision decision) {
        ArrayNode patch = decision.patch();
        return patch == null ? request.object() : (ObjectNode) JsonPatch.apply(patch, request.object());
    }

    /** Reviews the patched object again, as the API server does when it reinvokes a webhook. */
    static Decision reinvoked(TestCluster cluster, AdmissionRequest request, Decision first) {
        return mutate(cluster, create(patched(request, first)));
    }

    static Policy mode(String rule, EnforcementMode mode) {
        return new Policy(Map.of(rule, mode), Set.of(), Policy.Export.DEFAULT, Policy.Restore.DEFAULT);
    }

    static Policy markers(List<String> labels, List<String> annotations) {
        return new Policy(Map.of(), Set.of(), Policy.Export.DEFAULT, new Policy.Restore(labels, annotations, "velero"));
    }
}
