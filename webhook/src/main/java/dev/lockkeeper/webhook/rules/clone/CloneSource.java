package dev.lockkeeper.webhook.rules.clone;

import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.webhook.admission.Cause;

/** Where a DataVolume's data comes from, as far as clone authorization is concerned. */
public sealed interface CloneSource {

    /** Not a clone (import, upload, blank, externally populated…): nothing to authorize. */
    record NotAClone() implements CloneSource {}

    /** The source could not be determined, e.g. a sourceRef naming a DataSource that does not exist. */
    record Unresolved(Cause cause) implements CloneSource {}

    /** A PVC or VolumeSnapshot to clone from; {@code field} is where the spec names it. */
    record Located(Kind kind, String namespace, String name, String field) implements CloneSource {
        public TokenResource tokenResource() {
            return kind == Kind.PVC ? TokenResource.PERSISTENT_VOLUME_CLAIMS : TokenResource.VOLUME_SNAPSHOTS;
        }
    }

    enum Kind {
        PVC,
        SNAPSHOT
    }
}
