package dev.lockkeeper.webhook.rules.copy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.FailurePolicy;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;

/**
 * Validating, Pod CREATE: a pod may not mount writable a PVC an active VolumeCopy reads, so the copy (and its digest)
 * is of data nobody changes under it. Reading is fine: a volume with {@code persistentVolumeClaim.readOnly}, or one
 * every container mounts {@code readOnly} (a raw block device, {@code volumeDevices}, is always writable). The
 * controller's own holder pods pass: labelled {@code app.kubernetes.io/managed-by: lockkeeper} and created by the
 * controller's service account (a label alone anyone can set).
 */
public final class PodMountsCopySource implements AdmissionRule {
    private static final Match MATCH = Match.of("", "pods", Operation.CREATE);
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String MANAGED_BY_LOCKKEEPER = "lockkeeper";
    private static final List<String> CONTAINER_LISTS = List.of("initContainers", "containers");

    private final CopyAccounts accounts;

    public PodMountsCopySource(CopyAccounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public String name() {
        return "pod-mounts-copy-source";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    /** Served by the same hot-path registration as pod-mounts-exported-pvc, which fails open (manifests/base/webhooks.yaml). */
    @Override
    public FailurePolicy failurePolicy() {
        return FailurePolicy.IGNORE;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ObjectNode pod = request.object();
        String namespace = request.objectNamespace();
        for (JsonNode volume : pod.path("spec").path("volumes")) {
            String claim = Json.text(volume, "persistentVolumeClaim", "claimName");
            if (claim.isEmpty()) continue;
            // The index lookup first: almost no claim is a copy source, and then the containers are never walked.
            List<ObjectNode> copies = VolumeCopies.reading(review.cluster(), namespace, claim);
            if (copies.isEmpty() || !writable(pod, volume)) continue;
            if (isHolder(pod, request)) return Verdict.allow();
            String name = request.objectName().isEmpty()
                    ? Json.text(pod, "metadata", "generateName") + "*"
                    : request.objectName();
            String message = "Pod " + namespace + "/" + name + " cannot mount PersistentVolumeClaim " + namespace + "/"
                    + claim + " writable while VolumeCopy " + VolumeCopies.describe(copies) + " copies from it;"
                    + " mount it read-only (persistentVolumeClaim.readOnly: true) or wait until the copy has Succeeded"
                    + " or Failed";
            return Verdict.forbidden(message, Cause.forbidden("spec.volumes", message));
        }
        return Verdict.allow();
    }

    private static boolean writable(JsonNode pod, JsonNode volume) {
        if (volume.path("persistentVolumeClaim").path("readOnly").asBoolean(false)) return false;
        String name = Json.text(volume, "name");
        for (String list : CONTAINER_LISTS) {
            for (JsonNode container : pod.path("spec").path(list)) {
                for (JsonNode mount : container.path("volumeMounts")) {
                    if (name.equals(Json.text(mount, "name"))
                            && !mount.path("readOnly").asBoolean(false)) return true;
                }
                for (JsonNode device : container.path("volumeDevices")) {
                    if (name.equals(Json.text(device, "name"))) return true;
                }
            }
        }
        return false;
    }

    private boolean isHolder(JsonNode pod, AdmissionRequest request) {
        return accounts.controller().equals(request.userInfo().username())
                && MANAGED_BY_LOCKKEEPER.equals(Json.text(pod, "metadata", "labels", MANAGED_BY));
    }
}
