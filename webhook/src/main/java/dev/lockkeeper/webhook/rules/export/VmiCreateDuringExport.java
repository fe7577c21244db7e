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
import java.util.Optional;

/**
 * Validating, VirtualMachineInstance CREATE: the last way a VM starts (virt-controller creating
 * the VMI, or a user creating one directly); refused while an export holds its VM or any PVC it mounts.
 * A VMI without a VirtualMachine owner is judged by its own name (exports of a VM of that name still hold it).
 */
public final class VmiCreateDuringExport implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachineinstances", Operation.CREATE);

    @Override
    public String name() {
        return "vmi-create-during-export";
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
        String namespace = request.objectNamespace();
        Optional<String> vm = owningVm(request.object());
        var exports = Exports.blockingStart(
                cluster,
                namespace,
                vm.orElse(request.objectName()),
                ClusterIndex.volumeClaims(request.object().path("spec")));
        if (exports.isEmpty()) return Verdict.allow();
        // A standalone VMI is refused as itself: there is no VirtualMachine to name, or to start later.
        String message = vm.map(name -> Exports.startRefusal(namespace, name, exports))
                .orElse(Exports.startRefusal(
                        "VirtualMachineInstance " + namespace + "/" + request.objectName(),
                        namespace,
                        exports,
                        "create it again"));
        return Verdict.forbidden(message, Cause.forbidden("metadata.name", message));
    }

    /** The VirtualMachine that controls a VMI (virt-controller creates each VMI with that ownerReference). */
    private static Optional<String> owningVm(JsonNode vmi) {
        for (JsonNode owner : vmi.path("metadata").path("ownerReferences")) {
            if ("VirtualMachine".equals(Json.text(owner, "kind"))
                    && Json.text(owner, "apiVersion").startsWith("kubevirt.io/")) {
                return Optional.of(Json.text(owner, "name"));
            }
        }
        return Optional.empty();
    }
}
