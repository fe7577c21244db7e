package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.Set;

/**
 * Validating, VirtualMachineRestore CREATE/UPDATE: the target is a KubeVirt VirtualMachine that is
 * stopped, and the spec never changes. Upstream dropped the "stopped" check from its webhook in
 * 1.5; restoring disks under a running guest corrupts them, so Lockkeeper keeps it.
 */
public final class VirtualMachineRestoreValidator implements AdmissionRule {
    private static final Match MATCH = Match.of("snapshot.kubevirt.io", "virtualmachinerestores", Operation.CREATE, Operation.UPDATE);
    private static final Set<String> FINISHED_PHASES = Set.of("Succeeded", "Failed");

    @Override public String name() { return "virtualmachinerestore-validation"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        JsonNode spec = request.object().path("spec");
        if (request.operation() == Operation.UPDATE) {
            return spec.equals(request.oldObject().path("spec")) ? Verdict.allow() : deny(Cause.forbidden("spec", "spec is immutable after creation"));
        }
        String apiGroup = Json.text(spec, "target", "apiGroup"), kind = Json.text(spec, "target", "kind");
        String target = Json.text(spec, "target", "name");
        if (apiGroup.isEmpty()) return deny(Cause.invalid("spec.target.apiGroup", "missing apiGroup"));
        if (!apiGroup.equals("kubevirt.io")) return deny(Cause.invalid("spec.target.apiGroup", "apiGroup \"" + apiGroup + "\" is not kubevirt.io"));
        if (!kind.equals("VirtualMachine")) return deny(Cause.invalid("spec.target.kind", "kind \"" + kind + "\" is not VirtualMachine"));
        if (target.isEmpty()) return deny(Cause.invalid("spec.target.name", "missing name"));
        boolean running = cluster.get(ResourceType.VIRTUAL_MACHINE_INSTANCE, request.objectNamespace(), target)
                .filter(vmi -> !FINISHED_PHASES.contains(Json.text(vmi, "status", "phase"))).isPresent();
        return running ? deny(Cause.invalid("spec.target.name", "VirtualMachine \"" + target + "\" is not stopped")) : Verdict.allow();
    }

    private static Verdict deny(Cause cause) {
        return Verdict.invalid(cause.message(), cause);
    }
}
