package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Mutating, restored standalone VMI CREATE: a VMI no VM owns is restored as it was, MACs and firmware
 * identity included, so it gets the same fixes as a restored VM ({@link RestoredIdentity}), in
 * {@code spec.domain}. A VMI a VM owns is left alone here: restore-vmi-owned-refusal refuses it.
 */
public final class RestoreVmiIdentity implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachineinstances", Operation.CREATE);

    @Override
    public String name() {
        return "restore-vmi-identity";
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
        if (VmiOwner.of(request.object(), request.objectNamespace(), request.objectName(), cluster)
                .isPresent()) return Verdict.allow();
        return RestoredIdentity.fix(review, "spec", "domain");
    }
}
