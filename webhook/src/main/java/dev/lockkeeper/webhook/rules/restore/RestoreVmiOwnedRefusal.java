package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Validating, restored VMI CREATE: a VMI a VM owns is not restored; the restored VM starts its own
 * according to its run strategy, and a restored copy would race it on the same name.
 */
public final class RestoreVmiOwnedRefusal implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachineinstances", Operation.CREATE);

    @Override
    public String name() {
        return "restore-vmi-owned-refusal";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        if (!RestoreMarkers.present(review.policy(), request.object())) return Verdict.allow();
        String namespace = request.objectNamespace(), name = request.objectName();
        return VmiOwner.of(request.object(), namespace, name, cluster)
                .<Verdict>map(vm -> Verdict.forbidden("VirtualMachineInstance " + namespace + "/" + name
                        + " is owned by VirtualMachine " + vm + ", which recreates it; not restored"))
                .orElse(Verdict.allow());
    }
}
