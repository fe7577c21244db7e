package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;

/**
 * Mutating, restored VM CREATE: a VM restored next to its original (another namespace, or the same
 * cluster) would share MAC addresses and firmware identity with it; {@link RestoredIdentity} gives
 * it its own, in {@code spec.template.spec.domain}.
 */
public final class RestoreVmIdentity implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachines", Operation.CREATE);

    @Override
    public String name() {
        return "restore-vm-identity";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        if (!RestoreMarkers.present(review.policy(), request.object())) return Verdict.allow();
        return RestoredIdentity.fix(review, "spec", "template", "spec", "domain");
    }
}
