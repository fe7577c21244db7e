package dev.lockkeeper.webhook.rules.clone;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import java.util.List;

/**
 * Mutating, DataVolume CREATE: a clone from another namespace is allowed only if the requesting
 * user may clone from there (CDI's {@code AuthorizeUser}); allowed clones get a signed clone token
 * the data mover checks before copying a byte. A token the client sent is never kept: only this
 * rule mints tokens, so one copied from another DataVolume cannot ride along on a skipped path.
 */
public final class DataVolumeCloneAuthorization implements AdmissionRule {
    private static final Match MATCH = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE, Operation.UPDATE);

    private final CloneAuthorizer authorizer;
    private final CloneTokenSigner tokens;

    public DataVolumeCloneAuthorization(CloneAuthorizer authorizer, CloneTokenSigner tokens) {
        this.authorizer = authorizer;
        this.tokens = tokens;
    }

    @Override
    public String name() {
        return "datavolume-clone-authorization";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        if (request.operation() == Operation.UPDATE) return keepStoredToken(request);
        ObjectNode sent = request.object();
        ObjectEdit withoutTokens = withoutClientTokens(sent);
        ObjectNode dataVolume = withoutTokens == null ? sent : withoutTokens.object();
        Verdict allowWithoutToken = withoutTokens == null ? Verdict.allow() : withoutTokens.verdict(List.of());
        // Pre-populated and static volumes never copy, so they need neither permission nor token.
        if (Json.hasAnnotation(dataVolume, CdiAnnotations.PRE_POPULATED)
                || Json.hasAnnotation(dataVolume, CdiAnnotations.CHECK_STATIC_VOLUME)) {
            return allowWithoutToken;
        }
        String targetNamespace = request.objectNamespace();
        CloneSource resolved = CloneSources.resolve(dataVolume, targetNamespace, cluster);
        if (resolved instanceof CloneSource.Unresolved unresolved) {
            return Verdict.invalid(unresolved.cause().message(), unresolved.cause());
        }
        if (!(resolved instanceof CloneSource.Located source)
                || source.namespace().equals(targetNamespace)) {
            return allowWithoutToken;
        }
        // Permission first: whether a namespace exists is only told to someone who may clone from it.
        CloneAuthorization authorization =
                authorizer.authorize(new Requester.User(request.userInfo()), source, cluster);
        return CloneRefusal.of(authorization, source, source.field() + namespaceSuffix(source), cluster)
                .<Verdict>map(denial -> denial)
                .orElseGet(() -> withToken(
                        request, withoutTokens == null ? ObjectEdit.of(sent) : withoutTokens, source, targetNamespace));
    }

    /**
     * An UPDATE never adds or changes the token: only a CREATE this rule judged mints one, so a token added or
     * swapped later (copied from another DataVolume, or forged) is put back to what the stored object carries.
     * Removing it is allowed: CDI's controller drops the token once it has used it.
     */
    private static Verdict keepStoredToken(AdmissionRequest request) {
        ObjectNode updated = request.object();
        String stored =
                request.oldObject() == null ? null : annotation(request.oldObject(), CdiAnnotations.CLONE_TOKEN);
        String sent = annotation(updated, CdiAnnotations.CLONE_TOKEN);
        if (sent == null || sent.equals(stored)) return Verdict.allow();
        ObjectEdit restored = ObjectEdit.of(updated);
        if (stored == null) restored.remove("metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        else restored.put(stored, "metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        return restored.verdict(List.of("the clone token of a DataVolume cannot be changed; the stored one is kept"));
    }

    private static String annotation(ObjectNode object, String key) {
        var value = object.path("metadata").path("annotations").get(key);
        return value == null || !value.isTextual() ? null : value.asText();
    }

    private Verdict withToken(
            AdmissionRequest request, ObjectEdit dataVolume, CloneSource.Located source, String targetNamespace) {
        String targetName = request.objectName();
        String token = tokens.sign(CloneTokenClaims.clone(
                source.tokenResource(), source.namespace(), source.name(), targetNamespace, targetName));
        dataVolume.put(token, "metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        List<String> warnings = targetName.isEmpty()
                ? List.of("clone token is bound to no target name (generateName); CDI may reject it as invalid")
                : List.of();
        return dataVolume.verdict(warnings);
    }

    /** An edit removing client-supplied clone tokens, or null when the object carries none. */
    private static ObjectEdit withoutClientTokens(ObjectNode dataVolume) {
        if (!Json.hasAnnotation(dataVolume, CdiAnnotations.CLONE_TOKEN)
                && !Json.hasAnnotation(dataVolume, CdiAnnotations.EXTENDED_CLONE_TOKEN)) {
            return null;
        }
        ObjectEdit edit = ObjectEdit.of(dataVolume);
        edit.remove("metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        edit.remove("metadata", "annotations", CdiAnnotations.EXTENDED_CLONE_TOKEN);
        return edit;
    }

    private static String namespaceSuffix(CloneSource.Located source) {
        return source.field().equals("spec.sourceRef") ? "" : ".namespace";
    }
}
