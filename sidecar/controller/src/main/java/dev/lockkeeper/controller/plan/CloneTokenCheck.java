package dev.lockkeeper.controller.plan;

import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.certs.token.InvalidCloneTokenException;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Verifies a cross-namespace VolumeCopy's clone token against the webhook's public key: signature, CDI's claims
 * (operation, source, resource, target namespace and name, the UID when bound), and validity judged at the object's
 * server-set {@code creationTimestamp}, not now. The webhook minted the token in the same admission request that
 * created the object, so a token valid then proves the request was authorized; a controller that reconciles late
 * (restart, backlog) never meets CDI's five-minute expiry failures (CDI#2074, #2777).
 *
 * <p>A VolumeCopy the controller made for a DataVolume ({@link DataVolumeAdoption}) carries no token of its own: the
 * DataVolume's token, minted by datavolume-clone-authorization when the DataVolume was created, is judged instead, at
 * the DataVolume's creationTimestamp. Its claims (PVC source, the DataVolume's namespace and name) are exactly the
 * copy's, since the copy has the DataVolume's name.
 */
public final class CloneTokenCheck {
    /** CDI's {@code ValidateCloneTokenDV} answer for a cross-namespace DataVolume without a token. */
    public static final String MISSING = "clone token missing";

    private final PublicKey webhookKey;

    public CloneTokenCheck(PublicKey webhookKey) {
        this.webhookKey = webhookKey;
    }

    public TokenVerdict check(VolumeCopy copy) {
        if (!copy.crossNamespace()) return new TokenVerdict.NotRequired();
        return verify(annotation(copy.metadata(), Keys.CLONE_TOKEN), copy.metadata(), "VolumeCopy", copy);
    }

    /**
     * The verdict for a copy that may be authorized by a DataVolume: one naming a DataVolume in
     * {@value DataVolumeAdoption#AUTHORIZING_DATA_VOLUME} is judged by that DataVolume's token, and only if the
     * DataVolume is the copy's controlling owner (same UID); any other copy by its own token.
     *
     * @param dataVolume the DataVolume the annotation names, as read from the cluster (empty: not found)
     */
    public TokenVerdict check(VolumeCopy copy, Optional<GenericKubernetesResource> dataVolume) {
        String authorizing = annotation(copy.metadata(), DataVolumeAdoption.AUTHORIZING_DATA_VOLUME);
        if (authorizing == null) return check(copy);
        if (!copy.crossNamespace()) return new TokenVerdict.NotRequired();
        String named = copy.namespace() + "/" + authorizing;
        if (dataVolume.isEmpty()) return new TokenVerdict.Invalid("DataVolume " + named + " was not found");
        ObjectMeta dv = dataVolume.get().getMetadata();
        boolean owner = authorizing.equals(dv.getName())
                && copy.namespace().equals(dv.getNamespace())
                && DataVolumeAdoption.controller(copy.metadata())
                        .filter(ref -> DataVolumeAdoption.KIND.equals(ref.getKind())
                                && authorizing.equals(ref.getName())
                                && ref.getUid() != null
                                && ref.getUid().equals(dv.getUid()))
                        .isPresent();
        if (!owner) return new TokenVerdict.Invalid("the VolumeCopy is not controlled by DataVolume " + named);
        return checkDataVolume(copy, dataVolume.get());
    }

    /** The DataVolume's token, judged at its creationTimestamp, for exactly {@code copy}'s source and target. */
    public TokenVerdict checkDataVolume(VolumeCopy copy, GenericKubernetesResource dataVolume) {
        if (!copy.crossNamespace()) return new TokenVerdict.NotRequired();
        return verify(
                annotation(dataVolume.getMetadata(), Keys.CLONE_TOKEN), dataVolume.getMetadata(), "DataVolume", copy);
    }

    private TokenVerdict verify(String token, ObjectMeta minted, String kind, VolumeCopy copy) {
        if (token == null || token.isEmpty()) return new TokenVerdict.Invalid(MISSING);
        Instant created;
        try {
            created = Instant.parse(minted.getCreationTimestamp());
        } catch (NullPointerException | DateTimeParseException e) {
            return new TokenVerdict.Invalid(
                    "the " + kind + " has no creationTimestamp to judge the token's validity by");
        }
        var verifier = new CloneTokenVerifier(webhookKey, Clock.fixed(created, ZoneOffset.UTC));
        try {
            verifier.verify(
                    token,
                    new CloneTokenVerifier.ExpectedClone(
                            TokenResource.PERSISTENT_VOLUME_CLAIMS,
                            copy.sourceNamespace(),
                            copy.sourceName(),
                            copy.namespace(),
                            copy.name(),
                            copy.metadata().getUid()));
            return new TokenVerdict.Valid();
        } catch (InvalidCloneTokenException e) {
            return new TokenVerdict.Invalid(e.detail());
        }
    }

    private static String annotation(ObjectMeta metadata, String key) {
        return metadata == null || metadata.getAnnotations() == null
                ? null
                : metadata.getAnnotations().get(key);
    }
}
