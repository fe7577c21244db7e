package dev.lockkeeper.sidecar.transfer;

/** A node-wide budget of bytes per second shared by every task on the node. */
@FunctionalInterface
public interface RateLimiter {
    RateLimiter UNLIMITED = bytes -> {};

    /** Blocks until {@code bytes} may be moved. */
    void acquire(long bytes) throws InterruptedException;
}
