package dev.lockkeeper.webhook.admission;

import java.time.Duration;

/**
 * When a review must be answered by, on the monotonic clock. Built from the API server's {@code timeout} on the
 * webhook URL less a reserve for writing the answer.
 */
public record Deadline(long atNanos, Duration budget) {

    public static Deadline after(Duration budget) {
        return new Deadline(System.nanoTime() + budget.toNanos(), budget);
    }

    public long remainingNanos() {
        return atNanos - System.nanoTime();
    }

    public boolean passed() {
        return remainingNanos() <= 0;
    }

    /** Throws {@link DeadlinePassed} once the deadline has passed or the review's thread was cancelled. */
    public void check() {
        if (passed() || Thread.currentThread().isInterrupted()) throw new DeadlinePassed(this);
    }
}
