package dev.lockkeeper.webhook.rules.export;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.List;
import java.util.function.Supplier;

/** The export-only-when-stopped rules, in the order the validating chain runs them. */
public final class ExportRules {
    private ExportRules() {}

    public static List<AdmissionRule> validating(Supplier<Policy> policy) {
        return List.of(new ExportSpecValidation(policy), new ExportSourceInUse(), new ExportTokenSecret(),
                new ExportTokenStrength(policy), new VmStartDuringExport(), new VmStartRequestDuringExport(),
                new VmiCreateDuringExport(), new PodMountsExportedPvc(policy));
    }
}
