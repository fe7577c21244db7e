package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Validating, VirtualMachineInstance CREATE: the last way a VM starts (virt-controller creating
 * the VMI, or a user creating one directly); refused while an export holds its VM or any PVC it mounts.
 */
public final class VirtualMachineInstanceStartGuard implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachineinstances", Operation.CREATE);

    @Override public String name() { return "vmi-create-during-export"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        String namespace = request.objectNamespace();
        String vm = owningVm(request.object(), request.objectName());
        var exports = Exports.blockingStart(cluster, namespace, vm, ClusterIndex.volumeClaims(request.object().path("spec")));
        if (exports.isEmpty()) return Verdict.allow();
        String message = Exports.startRefusal(namespace, vm, exports);
        return Verdict.forbidden(message, Cause.forbidden("metadata.name", message));
    }

    /** The VM a VMI belongs to: its VirtualMachine owner, else the VM of the same name (KubeVirt names them alike). */
    private static String owningVm(JsonNode vmi, String name) {
        for (JsonNode owner : vmi.path("metadata").path("ownerReferences")) {
            if ("VirtualMachine".equals(Json.text(owner, "kind"))) return Json.text(owner, "name");
        }
        return name;
    }
}
