package dev.lockkeeper.webhook.rules.clone;

import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.Optional;

/**
 * How a clone from another namespace is refused, the same for every object that clones (DataVolumes, VolumeCopies):
 * CDI's 403 when the requester may not clone from there, a 403 when that could not be checked (fail closed), and, only
 * to a requester who may, a 422 when the source namespace does not exist (so nobody can probe which namespaces exist).
 */
public final class CloneRefusal {
    private CloneRefusal() {}

    /**
     * The denial, or empty when the clone is granted and the caller mints its token.
     *
     * @param namespaceField where the source namespace is named, for the causes ({@code spec.source.pvc.namespace})
     */
    public static Optional<Verdict.Deny> of(
            CloneAuthorization authorization, CloneSource.Located source, String namespaceField, ClusterView cluster) {
        return switch (authorization) {
            case CloneAuthorization.Refused refused ->
                Optional.of(Verdict.forbidden(refused.message(), Cause.forbidden(namespaceField, refused.message())));
            case CloneAuthorization.Unchecked unchecked ->
                Optional.of(
                        Verdict.forbidden(unchecked.message(), Cause.forbidden(source.field(), unchecked.message())));
            case CloneAuthorization.Granted granted
            when cluster.get(ResourceType.NAMESPACE, "", source.namespace()).isEmpty() -> {
                String message = "namespaces \"" + source.namespace() + "\" not found";
                yield Optional.of(Verdict.invalid(message, Cause.notFound(namespaceField, message)));
            }
            case CloneAuthorization.Granted granted -> Optional.empty();
        };
    }
}
