package dev.lockkeeper.webhook.admission;

/**
 * One policy, named after what it enforces: a pure function of its {@link ReviewContext} (the request, the policy
 * snapshot, the deadline and the cluster as this process sees it). Rules may block (a SubjectAccessReview) because
 * the server runs them on virtual threads, never on the event loop.
 */
public interface AdmissionRule {

    String name();

    /** The requests this rule judges; webhook registrations in manifests/ must cover it. */
    Match match();

    default boolean handles(AdmissionRequest request) {
        return match().matches(request);
    }

    /** The failurePolicy of the webhook registration that serves this rule; what a review past its deadline answers. */
    default FailurePolicy failurePolicy() {
        return FailurePolicy.FAIL;
    }

    Verdict admit(ReviewContext review);
}
