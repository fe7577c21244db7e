package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
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

    private final RestoreMarkers markers;

    public RestoreLauncherPodRefusal(RestoreMarkers markers) {
        this.markers = markers;
    }

    @Override public String name() { return "restore-launcher-pod-refusal"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        String role = Json.text(request.object(), "metadata", "labels", "kubevirt.io");
        if (!RECREATED_BY.containsKey(role) || !markers.present(request.object())) return Verdict.allow();
        return Verdict.forbidden("Pod " + request.objectNamespace() + "/" + request.objectName() + " is a KubeVirt " + role
                + " pod; not restored: " + RECREATED_BY.get(role));
    }
}
