package dev.lockkeeper.webhook.rules.export;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.List;
import java.util.function.Supplier;

/** The export-only-when-stopped rules, in the order the validating chain runs them. */
public final class ExportRules {
    private ExportRules() {}

    public static List<AdmissionRule> validating(Supplier<Policy> policy) {
        return List.of(new VirtualMachineExportSpecValidator(policy), new ExportOnlyWhenStopped(), new ExportTokenSecretReference(),
                new ExportTokenStrength(policy), new VirtualMachineStartGuard(), new VirtualMachineStartRequestGuard(),
                new VirtualMachineInstanceStartGuard(), new ExportedVolumeMountGuard(policy));
    }
}
