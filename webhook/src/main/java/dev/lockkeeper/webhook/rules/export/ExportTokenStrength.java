package dev.lockkeeper.webhook.rules.export;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Validating, VirtualMachineExport CREATE: the export token guards a download of the whole disk,
 * so it must be at least {@code export.minTokenLength} (default 12) alphanumeric characters, as
 * KubeVirt's docs recommend. Put this rule in warn mode to only warn.
 */
public final class ExportTokenStrength implements AdmissionRule {
    private static final Match MATCH = Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE);

    @Override
    public String name() {
        return "export-token-strength";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        if (!(TokenSecret.of(request.object(), request.objectNamespace(), request.userInfo(), cluster)
                instanceof TokenSecret.Present present)) {
            return Verdict.allow();
        }
        int minimum = review.policy().export().minTokenLength();
        String token = present.token();
        String problem = token.length() < minimum
                ? "is " + token.length() + " characters, shorter than " + minimum
                : !token.chars().allMatch(c -> c < 128 && Character.isLetterOrDigit(c)) ? "is not alphanumeric" : null;
        if (problem == null) return Verdict.allow();
        String message = "export token in Secret " + request.objectNamespace() + "/" + present.secret() + " " + problem
                + "; use at least " + minimum + " random letters and digits";
        return Verdict.invalid(message, Cause.invalid("spec.tokenSecretRef", message));
    }
}
