package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import java.util.List;

/** The restore-fix rules, in the order the chains run them. */
public final class RestoreRules {
    private RestoreRules() {}

    public static List<AdmissionRule> mutating() {
        return List.of(
                new RestoreDataVolumePrepopulated(),
                new RestorePvcPopulatedFor(),
                new RestoreVmiControllerLabels(),
                new RestoreVmIdentity(),
                new RestoreVmiIdentity(),
                new RestoreVmRunStrategy());
    }

    /** Refusals of a whole object: they depend on no mutation, and the validating chain sees the object as it will be stored. */
    public static List<AdmissionRule> validating() {
        return List.of(
                new RestorePvcUnfinishedRefusal(),
                new RestoreVmiOwnedRefusal(),
                new RestoreLauncherPodRefusal(),
                new VirtualMachineRestoreValidation());
    }
}
