package dev.lockkeeper.webhook.admission;

/**
 * Thrown inside a rule by the deadline-bound cluster view when the review's time is up (or the review was
 * cancelled): the chain answers with the rule's failure policy instead, so no rule has to handle it.
 */
public final class DeadlinePassed extends RuntimeException {
    public DeadlinePassed(Deadline deadline) {
        super("the review's deadline of " + deadline.budget().toMillis() + " ms passed", null, false, false);
    }
}
