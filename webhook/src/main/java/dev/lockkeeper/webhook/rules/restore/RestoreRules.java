package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.List;
import java.util.function.Supplier;

/** The restore-fix rules, in the order the chains run them. */
public final class RestoreRules {
    private RestoreRules() {}

    public static List<AdmissionRule> mutating(Supplier<Policy> policy) {
        RestoreMarkers markers = new RestoreMarkers(policy);
        return List.of(new RestoreDataVolumePrepopulated(markers), new RestorePvcPopulatedFor(markers), new RestoreVmiControllerLabels(markers),
                new RestoreVmIdentity(markers), new RestoreVmiIdentity(markers), new RestoreVmRunStrategy(markers));
    }

    /** Refusals of a whole object: they depend on no mutation, and the validating chain sees the object as it will be stored. */
    public static List<AdmissionRule> validating(Supplier<Policy> policy) {
        RestoreMarkers markers = new RestoreMarkers(policy);
        return List.of(new RestorePvcUnfinishedRefusal(markers), new RestoreVmiOwnedRefusal(markers), new RestoreLauncherPodRefusal(markers),
                new VirtualMachineRestoreValidation());
    }
}
