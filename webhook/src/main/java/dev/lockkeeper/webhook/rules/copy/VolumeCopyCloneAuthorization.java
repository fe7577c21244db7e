package dev.lockkeeper.webhook.rules.copy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.rules.clone.CloneRefusal;
import dev.lockkeeper.webhook.rules.clone.CloneSource;
import dev.lockkeeper.webhook.rules.clone.Requester;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Mutating, VolumeCopy CREATE and UPDATE: a copy of a PVC in another namespace is allowed only if the requester may
 * clone from there, judged and refused exactly as a DataVolume clone ({@link CloneAuthorizer}, CDI's SARs and
 * messages), and gets a clone token minted as for a DataVolume: source PVC, target namespace and name, no UID (a
 * mutating webhook sees none yet). The controller's {@code CloneTokenCheck} verifies exactly those claims.
 *
 * <p>Only this rule's tokens reach the controller: a token the client sent on CREATE is always removed, and an UPDATE
 * can only keep the stored token, which this rule minted (its registration fails closed, so no VolumeCopy is stored
 * without this rule having judged it). A token got by sending a forged review to the webhook's Service is therefore
 * useless: the real CREATE drops it and decides afresh for the real requester.
 *
 * <p>One copy is not judged here: the one the controller ({@link CopyAccounts#controller()}) creates for a DataVolume
 * moved by Lockkeeper, controlled by that DataVolume and naming it in {@value #AUTHORIZING_DATA_VOLUME}. The
 * DataVolume's creator was judged by datavolume-clone-authorization, whose token on the DataVolume the controller
 * verifies before it creates the copy and again before a byte moves; the controller's own permissions (it may hold
 * none in the source namespace) say nothing. It gets no token of its own. Anyone else's copy with such an owner and
 * annotation is judged as usual: the ownerReference is no way around the check.
 */
public final class VolumeCopyCloneAuthorization implements AdmissionRule {
    private static final Match MATCH = Match.of(VolumeCopies.GROUP, "volumecopies", Operation.CREATE, Operation.UPDATE);
    private static final String SOURCE_FIELD = "spec.source.pvc";
    /** The controller's DataVolumeAdoption.AUTHORIZING_DATA_VOLUME. */
    static final String AUTHORIZING_DATA_VOLUME = "lockkeeper.dev/authorizing-datavolume";

    private final CloneAuthorizer authorizer;
    private final CloneTokenSigner tokens;
    private final CopyAccounts accounts;

    public VolumeCopyCloneAuthorization(CloneAuthorizer authorizer, CloneTokenSigner tokens, CopyAccounts accounts) {
        this.authorizer = authorizer;
        this.tokens = tokens;
        this.accounts = accounts;
    }

    @Override
    public String name() {
        return "volumecopy-clone-authorization";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        if (request.operation() == Operation.UPDATE) return keepStoredToken(request);
        ObjectEdit copy = ObjectEdit.of(request.object());
        copy.remove("metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        String targetNamespace = request.objectNamespace();
        JsonNode pvc = copy.object().path("spec").path("source").path("pvc");
        // No source name: the CRD's schema refuses it after the mutating webhooks; there is nothing to authorize.
        if (Json.text(pvc, "name").isEmpty()) return copy.verdict(List.of());
        String sourceNamespace = Json.text(pvc, "namespace").isEmpty() ? targetNamespace : Json.text(pvc, "namespace");
        if (sourceNamespace.equals(targetNamespace)) return copy.verdict(List.of());
        String targetName = request.objectName();
        if (targetName.isEmpty()) return generatedName(request, targetNamespace);
        if (madeByTheControllerForItsDataVolume(request)) return copy.verdict(List.of());
        var source =
                new CloneSource.Located(CloneSource.Kind.PVC, sourceNamespace, Json.text(pvc, "name"), SOURCE_FIELD);
        var authorization = authorizer.authorize(new Requester.User(request.userInfo()), source, review.cluster());
        return CloneRefusal.of(authorization, source, SOURCE_FIELD + ".namespace", review.cluster())
                .<Verdict>map(denial -> denial)
                .orElseGet(() -> {
                    copy.put(
                            tokens.sign(CloneTokenClaims.clone(
                                    source.tokenResource(),
                                    source.namespace(),
                                    source.name(),
                                    targetNamespace,
                                    targetName)),
                            "metadata",
                            "annotations",
                            CdiAnnotations.CLONE_TOKEN);
                    return copy.verdict(List.of());
                });
    }

    /**
     * Created by the controller, controlled by a DataVolume (cdi.kubevirt.io) of the name the annotation gives: the
     * controller has checked that DataVolume's token grants exactly this copy.
     */
    private boolean madeByTheControllerForItsDataVolume(AdmissionRequest request) {
        if (!accounts.controller().equals(request.userInfo().username())) return false;
        ObjectNode copy = request.object();
        String dataVolume = Json.text(copy, "metadata", "annotations", AUTHORIZING_DATA_VOLUME);
        if (dataVolume.isEmpty()) return false;
        for (JsonNode owner : copy.path("metadata").path("ownerReferences")) {
            if (owner.path("controller").isBoolean()
                    && owner.path("controller").booleanValue()
                    && "DataVolume".equals(Json.text(owner, "kind"))
                    && Json.text(owner, "apiVersion").startsWith("cdi.kubevirt.io/")
                    && dataVolume.equals(Json.text(owner, "name"))) return true;
        }
        return false;
    }

    /**
     * The token names its target, and a generated name is chosen after admission, so the token would name none and
     * fail the controller's check for good (CDI's {@code validateTokenData}, pkg/controller/common/util.go: "invalid
     * token"; CDI lets such a DataVolume through to fail later, Lockkeeper says so at once).
     */
    private static Verdict generatedName(AdmissionRequest request, String namespace) {
        String message = "VolumeCopy " + namespace + "/" + Json.text(request.object(), "metadata", "generateName")
                + "* copies from another namespace and needs metadata.name: its clone token names the target, and a"
                + " name generated after admission would fail the token check (\"invalid token\"); set"
                + " metadata.name instead of generateName";
        return Verdict.invalid(message, Cause.invalid("metadata.name", message));
    }

    /**
     * An UPDATE keeps whatever token the stored object has (this rule minted it at CREATE) and never takes one from
     * the client: a token added or swapped is put back, or removed when none is stored. Removing every token on
     * UPDATE instead would fail any copy whose VolumeCopy is edited (a label) before the controller verified it.
     */
    private static Verdict keepStoredToken(AdmissionRequest request) {
        String stored = annotation(request.oldObject());
        String sent = annotation(request.object());
        if (sent == null || stored != null && sameToken(sent, stored)) return Verdict.allow();
        ObjectEdit restored = ObjectEdit.of(request.object());
        if (stored == null) restored.remove("metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        else restored.put(stored, "metadata", "annotations", CdiAnnotations.CLONE_TOKEN);
        return restored.verdict(
                List.of("the clone token of a VolumeCopy is minted by Lockkeeper when it is created; the one sent was"
                        + " not kept"));
    }

    /** Constant time: how much of a stored token a guess matches is not told by how long the answer takes. */
    private static boolean sameToken(String sent, String stored) {
        return MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), stored.getBytes(StandardCharsets.UTF_8));
    }

    private static String annotation(ObjectNode object) {
        if (object == null) return null;
        JsonNode value = object.path("metadata").path("annotations").get(CdiAnnotations.CLONE_TOKEN);
        return value == null || !value.isTextual() ? null : value.asText();
    }
}
