package dev.lockkeeper.webhook.rules.export;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import java.util.List;

/** The export-only-when-stopped rules, in the order the validating chain runs them. */
public final class ExportRules {
    private ExportRules() {}

    public static List<AdmissionRule> validating() {
        return List.of(
                new ExportSpecValidation(),
                new ExportSourceInUse(),
                new ExportTokenSecret(),
                new ExportTokenStrength(),
                new VmStartDuringExport(),
                new VmStartRequestDuringExport(),
                new VmiCreateDuringExport(),
                new PodMountsExportedPvc());
    }
}
