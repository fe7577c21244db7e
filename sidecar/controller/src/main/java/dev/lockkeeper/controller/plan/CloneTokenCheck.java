package dev.lockkeeper.controller.plan;

import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.certs.token.InvalidCloneTokenException;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Verifies a cross-namespace VolumeCopy's clone token against the webhook's public key: signature, CDI's claims
 * (operation, source, resource, target namespace and name, the UID when bound), and validity judged at the object's
 * server-set {@code creationTimestamp}, not now. The webhook minted the token in the same admission request that
 * created the object, so a token valid then proves the request was authorized; a controller that reconciles late
 * (restart, backlog) never meets CDI's five-minute expiry failures (CDI#2074, #2777).
 */
public final class CloneTokenCheck {
    private final PublicKey webhookKey;

    public CloneTokenCheck(PublicKey webhookKey) {
        this.webhookKey = webhookKey;
    }

    public TokenVerdict check(VolumeCopy copy) {
        if (!copy.crossNamespace()) return new TokenVerdict.NotRequired();
        var annotations = copy.metadata().getAnnotations();
        String token = annotations == null ? null : annotations.get(Keys.CLONE_TOKEN);
        if (token == null || token.isEmpty()) return new TokenVerdict.Invalid("clone token missing");
        Instant created;
        try {
            created = Instant.parse(copy.metadata().getCreationTimestamp());
        } catch (NullPointerException | DateTimeParseException e) {
            return new TokenVerdict.Invalid("the VolumeCopy has no creationTimestamp to judge the token's validity by");
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
}
