package dev.lockkeeper.webhook.rules.clone;

/** The outcome of checking that a requester may clone from a source namespace. */
public sealed interface CloneAuthorization {

    record Granted(String reason) implements CloneAuthorization {}

    /** {@code upstreamMessage} is CDI's exact text; {@code explanation} adds what is missing and the fix. */
    record Refused(String upstreamMessage, String explanation) implements CloneAuthorization {
        public String message() {
            return upstreamMessage + ". " + explanation;
        }
    }

    /** A SubjectAccessReview failed or timed out: the clone is refused (fail closed). */
    record Unchecked(String message) implements CloneAuthorization {}
}
