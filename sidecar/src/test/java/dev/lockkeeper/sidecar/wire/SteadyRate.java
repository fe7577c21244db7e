package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.transfer.RateLimiter;

/** A plain rate limiter for tests: sleeps so that bytes flow at no more than {@code bytesPerSecond}. */
record SteadyRate(long bytesPerSecond) implements RateLimiter {
    @Override
    public void acquire(long bytes) throws InterruptedException {
        Thread.sleep(bytes * 1000 / bytesPerSecond);
    }
}
