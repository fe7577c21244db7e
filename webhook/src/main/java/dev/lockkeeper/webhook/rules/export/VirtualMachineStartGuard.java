package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Validating, VirtualMachine UPDATE: refuse the edit that starts a VM ({@code spec.running: true},
 * or {@code spec.runStrategy} moved to a running strategy, as {@code virtctl start} does for a
 * Halted VM) while an export holds the VM or one of its disks.
 */
public final class VirtualMachineStartGuard implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachines", Operation.UPDATE);

    @Override public String name() { return "vm-start-during-export"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        JsonNode spec = request.object().path("spec");
        if (!Exports.requestsRun(spec) || Exports.requestsRun(request.oldObject().path("spec"))) return Verdict.allow();
        String namespace = request.objectNamespace(), name = request.objectName();
        var exports = Exports.blockingStart(cluster, namespace, name, ClusterIndex.volumeClaims(spec.path("template").path("spec")));
        if (exports.isEmpty()) return Verdict.allow();
        String message = Exports.startRefusal(namespace, name, exports);
        return Verdict.forbidden(message, Cause.forbidden(spec.has("runStrategy") ? "spec.runStrategy" : "spec.running", message));
    }
}
