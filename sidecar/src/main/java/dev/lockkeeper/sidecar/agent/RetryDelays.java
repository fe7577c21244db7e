package dev.lockkeeper.sidecar.agent;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * How long a task waits before its next attempt, after a retryable failure (one instance per task run):
 * <ul>
 * <li><b>Backoff with jitter</b>: the n-th consecutive failure without progress waits a random time in
 *     [d/2, d] for d = {@code first} · 2<sup>n-1</sup>, at most {@code max}: targets that lost the same source at once
 *     do not come back in step.</li>
 * <li><b>Progress resets it</b>: an attempt that moved the checkpoint was a working connection that broke; the next
 *     wait starts from {@code first} again instead of where an earlier outage left it.</li>
 * <li><b>A refused connection is polled</b>: "connection refused" means the source's host answers but nothing
 *     listens yet, typically its agent restarting; such failures retry every {@code refusedPoll} (jittered the same
 *     way) for up to {@code refusedWindow} in a row, so the pull continues within a poll of the agent being back
 *     rather than after a doubled backoff. A source that stays away longer falls back to the backoff.</li>
 * </ul>
 * The task's retry deadline bounds all of it.
 */
final class RetryDelays {
    static final Duration REFUSED_POLL = Duration.ofMillis(250);
    static final Duration REFUSED_WINDOW = Duration.ofSeconds(30);

    private final Duration first;
    private final Duration max;
    private final Duration refusedPoll;
    private final Duration refusedWindow;
    private final DoubleSupplier random;
    private int failuresWithoutProgress;
    private Duration refusedSoFar = Duration.ZERO;

    /** @param random uniform in [0, 1) */
    RetryDelays(Duration first, Duration max, Duration refusedPoll, Duration refusedWindow, DoubleSupplier random) {
        this.first = first;
        this.max = max;
        this.refusedPoll = refusedPoll;
        this.refusedWindow = refusedWindow;
        this.random = random;
    }

    /**
     * @param refused    the attempt failed because the source refused the connection
     * @param progressed the attempt moved the checkpoint before it failed
     */
    Duration next(boolean refused, boolean progressed) {
        if (progressed) {
            failuresWithoutProgress = 0;
            refusedSoFar = Duration.ZERO;
        }
        if (refused && refusedSoFar.compareTo(refusedWindow) < 0) {
            Duration wait = jittered(refusedPoll);
            refusedSoFar = refusedSoFar.plus(wait);
            return wait;
        }
        if (!refused) refusedSoFar = Duration.ZERO;
        Duration ceiling = first;
        for (int i = 0; i < failuresWithoutProgress && ceiling.compareTo(max) < 0; i++)
            ceiling = ceiling.multipliedBy(2);
        if (ceiling.compareTo(max) > 0) ceiling = max;
        failuresWithoutProgress++;
        return jittered(ceiling);
    }

    private Duration jittered(Duration ceiling) {
        long nanos = ceiling.toNanos();
        return Duration.ofNanos(nanos / 2 + (long) (random.getAsDouble() * (nanos - nanos / 2)));
    }
}
