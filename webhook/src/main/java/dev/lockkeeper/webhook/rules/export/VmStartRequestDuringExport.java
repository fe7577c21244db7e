package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.FailurePolicy;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.EnumSet;

/**
 * Validating, {@code virtualmachines/status} UPDATE: {@code virtctl start} on a Manual or
 * RerunOnFailure VM adds a Start {@code stateChangeRequest}; refuse it while an export holds the
 * VM or one of its disks. Status updates that add no Start request pass at once.
 */
public final class VmStartRequestDuringExport implements AdmissionRule {
    private static final Match MATCH =
            new Match("kubevirt.io", "virtualmachines", "status", EnumSet.of(Operation.UPDATE));

    @Override
    public String name() {
        return "vm-start-request-during-export";
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
        if (startRequests(request.object()) <= startRequests(request.oldObject())) return Verdict.allow();
        String namespace = request.objectNamespace(), name = request.objectName();
        var claims = ClusterIndex.volumeClaims(
                request.object().path("spec").path("template").path("spec"));
        var exports = Exports.blockingStart(cluster, namespace, name, claims);
        if (exports.isEmpty()) return Verdict.allow();
        String message = Exports.startRefusal(namespace, name, exports);
        return Verdict.forbidden(message, Cause.forbidden("status.stateChangeRequests", message));
    }

    private static long startRequests(JsonNode vm) {
        if (vm == null) return 0;
        long count = 0;
        for (JsonNode change : vm.path("status").path("stateChangeRequests"))
            if ("Start".equals(Json.text(change, "action"))) count++;
        return count;
    }
}
