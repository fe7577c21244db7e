package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;

/**
 * Mutating, restored VMI CREATE: KubeVirt's controllers set these labels for the VMI's former
 * life (launcher pod, node, migration, install strategy); restored, they point at things that no
 * longer exist and mislead the controllers, so they are removed. Owned VMIs are refused by
 * {@link RestoreVmiOwnedRefusal}; in its warn mode they are cleaned too.
 */
public final class RestoreVmiControllerLabels implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachineinstances", Operation.CREATE);
    static final List<String> CONTROLLER_LABELS = List.of(
            "kubevirt.io/created-by",
            "kubevirt.io/migrationJobUID",
            "kubevirt.io/nodeName",
            "kubevirt.io/migrationTargetNodeName",
            "kubevirt.io/schedulable",
            "kubevirt.io/install-strategy");

    @Override
    public String name() {
        return "restore-vmi-controller-labels";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ObjectNode vmi = request.object();
        if (!RestoreMarkers.present(review.policy(), vmi)
                || CONTROLLER_LABELS.stream().noneMatch(Json.at(vmi, "metadata", "labels")::has)) {
            return Verdict.allow();
        }
        ObjectEdit edit = ObjectEdit.of(vmi);
        CONTROLLER_LABELS.forEach(label -> edit.remove("metadata", "labels", label));
        return edit.verdict(List.of());
    }
}
