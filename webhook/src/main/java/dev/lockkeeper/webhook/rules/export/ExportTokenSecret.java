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
 * Validating, VirtualMachineExport CREATE: a {@code tokenSecretRef} must name a Secret in the
 * export's namespace with data key {@code token}; otherwise the export server never becomes usable.
 * The requester must be allowed to read that Secret, checked before anything about it is told.
 */
public final class ExportTokenSecret implements AdmissionRule {
    private static final Match MATCH = Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE);

    @Override
    public String name() {
        return "export-token-secret";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        String namespace = request.objectNamespace();
        String user = request.userInfo().username();
        return switch (TokenSecret.of(request.object(), namespace, request.userInfo(), cluster)) {
            case TokenSecret.Unreadable unreadable ->
                forbid(
                        "User " + user + " may not get Secret " + namespace + "/" + unreadable.secret()
                                + " named by tokenSecretRef; its token downloads the exported disks, so reference a Secret you can read");
            case TokenSecret.Unchecked unchecked ->
                forbid("whether " + user + " may read Secret " + namespace + "/" + unchecked.secret()
                        + " named by tokenSecretRef could not be checked (SubjectAccessReview failed: "
                        + unchecked.error()
                        + "); refusing the export, retry shortly");
            case TokenSecret.Missing missing ->
                invalid("Secret " + namespace + "/" + missing.secret()
                        + " named by tokenSecretRef does not exist; create it with a data key \"token\" first");
            case TokenSecret.NoTokenKey noKey ->
                invalid("Secret " + namespace + "/" + noKey.secret()
                        + " named by tokenSecretRef has no data key \"token\"");
            case TokenSecret.NotReferenced notReferenced -> Verdict.allow();
            case TokenSecret.Present present -> Verdict.allow();
        };
    }

    private static Verdict invalid(String message) {
        return Verdict.invalid(message, Cause.invalid("spec.tokenSecretRef", message));
    }

    private static Verdict forbid(String message) {
        return Verdict.forbidden(message, Cause.forbidden("spec.tokenSecretRef", message));
    }
}
