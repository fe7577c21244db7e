package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import java.util.Map;

/**
 * Validating, restored Pod CREATE: virt-launcher and hotplug-disk pods belong to a running VMI;
 * restored, they would run a second copy of the VM or attach a disk to nothing.
 */
public final class RestoreLauncherPodRefusal implements AdmissionRule {
    private static final Match MATCH = Match.of("", "pods", Operation.CREATE);
    private static final Map<String, String> RECREATED_BY = Map.of(
            "virt-launcher", "KubeVirt starts a new one when the VM runs",
            "hotplug-disk", "KubeVirt creates a new one when the volume is hotplugged");

    @Override
    public String name() {
        return "restore-launcher-pod-refusal";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        String role = Json.text(request.object(), "metadata", "labels", "kubevirt.io");
        if (!RECREATED_BY.containsKey(role) || !RestoreMarkers.present(review.policy(), request.object()))
            return Verdict.allow();
        return Verdict.forbidden("Pod " + request.objectNamespace() + "/" + request.objectName() + " is a KubeVirt "
                + role + " pod; not restored: " + RECREATED_BY.get(role));
    }
}
