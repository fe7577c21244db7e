package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.transfer.RateLimiter;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The node-wide {@code --max-rate}: one bucket every task on the node draws from, so two copies share the budget
 * instead of each taking all of it. It holds at most {@code burst} bytes (a tenth of a second's worth, at least one
 * 4 MiB chunk); a request larger than what is there waits until the bucket has refilled by the difference.
 */
public final class TokenBucket implements RateLimiter {
    static final long MIN_BURST = 4L << 20;

    private final long bytesPerSecond;
    private final long burst;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private double tokens;
    private long last;

    /** How a caller waits; tests substitute one that advances a fake clock. */
    @FunctionalInterface
    interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    public TokenBucket(long bytesPerSecond) {
        this(bytesPerSecond, System::nanoTime, nanos -> TimeUnit.NANOSECONDS.sleep(nanos));
    }

    TokenBucket(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        if (bytesPerSecond <= 0) throw new IllegalArgumentException("a rate must be at least 1 byte per second");
        this.bytesPerSecond = bytesPerSecond;
        this.burst = Math.max(MIN_BURST, bytesPerSecond / 10);
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
        this.tokens = burst;
        this.last = nanoClock.getAsLong();
    }

    /** A limiter that honours both {@code first} and {@code second}, e.g. the node's and a task's own. */
    public static RateLimiter both(RateLimiter first, RateLimiter second) {
        if (first == UNLIMITED) return second;
        if (second == UNLIMITED) return first;
        return bytes -> {
            first.acquire(bytes);
            second.acquire(bytes);
        };
    }

    @Override
    public void acquire(long bytes) throws InterruptedException {
        long wait;
        synchronized (this) {
            long now = nanoClock.getAsLong();
            tokens = Math.min(burst, tokens + (now - last) * (double) bytesPerSecond / TimeUnit.SECONDS.toNanos(1));
            last = now;
            tokens -= bytes;
            wait = tokens >= 0 ? 0 : (long) Math.ceil(-tokens * TimeUnit.SECONDS.toNanos(1) / bytesPerSecond);
        }
        if (wait > 0) sleeper.sleepNanos(wait);
    }
}
