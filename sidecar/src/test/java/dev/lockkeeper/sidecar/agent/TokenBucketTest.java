package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bucket on a fake clock: every wait it asks for is recorded, and "sleeping" advances the clock. */
class TokenBucketTest {
    private static final long MiB = 1 << 20;
    private long now;
    private final List<Long> waits = new ArrayList<>();

    private TokenBucket bucket(long rate) {
        return new TokenBucket(rate, () -> now, nanos -> {
            waits.add(nanos);
            now += nanos;
        });
    }

    @Test
    void aFullBucketLetsOneBurstThroughThenPacesTheRest() throws Exception {
        TokenBucket bucket = bucket(8 * MiB); // burst: the 4 MiB minimum
        bucket.acquire(4 * MiB);
        assertEquals(List.of(), waits, "the first 4 MiB are in the bucket");
        bucket.acquire(8 * MiB);
        assertEquals(List.of(TimeUnit.SECONDS.toNanos(1)), waits, "8 MiB more at 8 MiB/s: one second");
    }

    @Test
    void tasksShareOneBudget() throws Exception {
        TokenBucket bucket = bucket(10 * MiB);
        bucket.acquire(4 * MiB);
        // two tasks draw 5 MiB each in turn: together 10 MiB, one second at 10 MiB/s
        bucket.acquire(5 * MiB);
        bucket.acquire(5 * MiB);
        assertEquals(
                TimeUnit.SECONDS.toNanos(1),
                waits.stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void idleTimeRefillsOnlyUpToTheBurst() throws Exception {
        TokenBucket bucket = bucket(10 * MiB);
        bucket.acquire(4 * MiB);
        now += TimeUnit.HOURS.toNanos(1); // an hour idle must not bank an hour of bandwidth
        bucket.acquire(4 * MiB + 10 * MiB);
        assertEquals(List.of(TimeUnit.SECONDS.toNanos(1)), waits);
    }

    @Test
    void bothLimitsApply() throws Exception {
        TokenBucket node = bucket(100 * MiB);
        TokenBucket task = bucket(4 * MiB);
        var combined = TokenBucket.both(node, task);
        combined.acquire(4 * MiB);
        combined.acquire(4 * MiB);
        assertEquals(List.of(TimeUnit.SECONDS.toNanos(1)), waits, "the slower (task) limit sets the pace");
    }

    @Test
    void aZeroRateIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0));
    }
}
