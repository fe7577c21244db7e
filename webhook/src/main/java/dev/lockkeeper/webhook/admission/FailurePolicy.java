package dev.lockkeeper.webhook.admission;

/**
 * What a rule's answer is when it cannot finish within the review's deadline: the {@code failurePolicy} of the
 * webhook registration that sends it its requests (manifests/), so the webhook answers late work as the API server
 * would have answered no answer. {@code FAIL} denies; {@code IGNORE} allows with a warning.
 */
public enum FailurePolicy {
    FAIL("Fail"),
    IGNORE("Ignore");

    private final String registration;

    FailurePolicy(String registration) {
        this.registration = registration;
    }

    /** The value in a webhook registration's {@code failurePolicy} field. */
    public String registration() {
        return registration;
    }
}
