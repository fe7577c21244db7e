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
        return List.of(new RestoredDataVolumeMarker(markers), new RestoredPvcOwnership(markers), new RestoredVmiLabelCleanup(markers),
                new RestoredVmIdentity(markers), new RestoredStandaloneVmiIdentity(markers), new RestoredVmRunStrategy(markers));
    }

    /** Refusals of a whole object: they depend on no mutation, and the validating chain sees the object as it will be stored. */
    public static List<AdmissionRule> validating(Supplier<Policy> policy) {
        RestoreMarkers markers = new RestoreMarkers(policy);
        return List.of(new RestoredUnfinishedPvcRefusal(markers), new RestoredVmiRefusal(markers), new RestoredLauncherPodRefusal(markers),
                new VirtualMachineRestoreValidator());
    }
}
