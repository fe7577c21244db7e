package dev.lockkeeper.sidecar.copy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** Keeps the average data rate under a limit, so a copy can leave I/O to the node's running workloads. */
final class Throttle {
    private final long bytesPerSecond;
    private final long startNanos = System.nanoTime();
    private long granted;

    Throttle(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    void acquire(long bytes) {
        if (bytesPerSecond <= 0) return;
        long due;
        synchronized (this) {
            granted += bytes;
            due = startNanos + TimeUnit.SECONDS.toNanos(1) * granted / bytesPerSecond;
        }
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
            LockSupport.parkNanos(wait);
        }
    }
}
