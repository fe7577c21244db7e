package dev.lockkeeper.webhook.cluster;

/** The answer to an {@link AccessReview}; {@link Unavailable} means nobody could answer. */
public sealed interface AccessDecision {
    record Allowed(String reason) implements AccessDecision {}

    record Denied(String reason) implements AccessDecision {}

    record Unavailable(String error) implements AccessDecision {}
}
