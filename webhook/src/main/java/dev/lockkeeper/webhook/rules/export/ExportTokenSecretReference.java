package dev.lockkeeper.webhook.rules.export;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;

/**
 * Validating, VirtualMachineExport CREATE: a {@code tokenSecretRef} must name a Secret in the
 * export's namespace with data key {@code token}; otherwise the export server never becomes usable.
 */
public final class ExportTokenSecretReference implements AdmissionRule {
    private static final Match MATCH = Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE);

    @Override public String name() { return "export-token-secret"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        String namespace = request.objectNamespace();
        return switch (TokenSecret.of(request.object(), namespace, cluster)) {
            case TokenSecret.Missing missing -> deny("Secret " + namespace + "/" + missing.secret()
                    + " named by tokenSecretRef does not exist; create it with a data key \"token\" first");
            case TokenSecret.NoTokenKey noKey -> deny("Secret " + namespace + "/" + noKey.secret()
                    + " named by tokenSecretRef has no data key \"token\"");
            case TokenSecret.NotReferenced notReferenced -> Verdict.allow();
            case TokenSecret.Present present -> Verdict.allow();
        };
    }

    private static Verdict deny(String message) {
        return Verdict.invalid(message, Cause.invalid("spec.tokenSecretRef", message));
    }
}
