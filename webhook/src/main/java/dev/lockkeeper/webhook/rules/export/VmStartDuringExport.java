package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Validating, VirtualMachine UPDATE: refuse the edit that starts a VM while an export holds the VM or one of its
 * disks: {@code spec.running: true}, {@code spec.runStrategy} moved off Halted (as {@code virtctl start} does), or
 * a Once/RerunOnFailure VM whose VMI has finished moved to Always. Whether an edit starts the VM is judged against
 * its VMI as it is now, so edits to a VM that is already running pass.
 */
public final class VmStartDuringExport implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachines", Operation.UPDATE);

    @Override
    public String name() {
        return "vm-start-during-export";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        JsonNode spec = request.object().path("spec");
        String namespace = request.objectNamespace(), name = request.objectName();
        Supplier<Optional<ObjectNode>> vmi = () -> cluster.get(ResourceType.VIRTUAL_MACHINE_INSTANCE, namespace, name);
        if (!Exports.asksToRun(spec, vmi)
                || Exports.asksToRun(request.oldObject().path("spec"), vmi)) return Verdict.allow();
        var exports = Exports.blockingStart(
                cluster,
                namespace,
                name,
                ClusterIndex.volumeClaims(spec.path("template").path("spec")));
        if (exports.isEmpty()) return Verdict.allow();
        String message = Exports.startRefusal(namespace, name, exports);
        return Verdict.forbidden(
                message, Cause.forbidden(spec.has("runStrategy") ? "spec.runStrategy" : "spec.running", message));
    }
}
