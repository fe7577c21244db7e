package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.FailurePolicy;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Validating, Pod CREATE: a pod may not mount a PVC an active export holds (a PVC export, or a
 * disk of an exported VM), so nothing writes under the exporter. The exporter's own pod passes: it
 * is controlled by that export (ownerReference with the export's UID) and created by one of the
 * policy's {@code export.exporterCreators} (KubeVirt's controller service account, matched exactly:
 * a same-named service account in another namespace does not count).
 */
public final class PodMountsExportedPvc implements AdmissionRule {
    private static final Match MATCH = Match.of("", "pods", Operation.CREATE);

    @Override
    public String name() {
        return "pod-mounts-exported-pvc";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    /** A hot path KubeVirt depends on: its registration fails open (manifests/base/webhooks.yaml). */
    @Override
    public FailurePolicy failurePolicy() {
        return FailurePolicy.IGNORE;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        JsonNode volumes = request.object().path("spec").path("volumes");
        String namespace = request.objectNamespace();
        for (JsonNode volume : volumes) {
            String claim = Json.text(volume, "persistentVolumeClaim", "claimName");
            if (claim.isEmpty()) continue;
            List<ObjectNode> holders = new ArrayList<>();
            for (ObjectNode export : Exports.holding(cluster, namespace, claim)) {
                if (!isExporterPod(
                        request.object(),
                        export,
                        request.userInfo(),
                        review.policy().export().exporterCreators())) holders.add(export);
            }
            if (!holders.isEmpty()) {
                String pod = request.objectName().isEmpty()
                        ? Json.text(request.object(), "metadata", "generateName") + "*"
                        : request.objectName();
                String message = "Pod " + namespace + "/" + pod + " cannot mount PersistentVolumeClaim " + namespace
                        + "/" + claim + " while VirtualMachineExport " + Exports.describe(holders)
                        + " is active; delete the export or wait until it is Terminated";
                return Verdict.forbidden(message, Cause.forbidden("spec.volumes", message));
            }
        }
        return Verdict.allow();
    }

    static boolean isExporterPod(JsonNode pod, JsonNode export, UserInfo requester, List<String> exporterCreators) {
        if (!exporterCreators.contains(requester.username())) return false;
        String exportUid = Json.text(export, "metadata", "uid");
        for (JsonNode owner : pod.path("metadata").path("ownerReferences")) {
            boolean controlledByExport = "VirtualMachineExport".equals(Json.text(owner, "kind"))
                    && Json.text(owner, "apiVersion").startsWith("export.kubevirt.io/")
                    && Json.text(export, "metadata", "name").equals(Json.text(owner, "name"))
                    && owner.path("controller").asBoolean(false);
            if (controlledByExport && (exportUid.isEmpty() || exportUid.equals(Json.text(owner, "uid")))) return true;
        }
        return false;
    }
}
