package dev.lockkeeper.sidecar.copy;

import java.util.concurrent.atomic.AtomicLong;

/** Logical bytes settled so far, shared by the copying threads, reported to the caller's listener. */
final class ProgressCounter {
    private final AtomicLong done = new AtomicLong();
    private volatile long total;
    private final ProgressListener listener;

    ProgressCounter(long total, ProgressListener listener) {
        this.total = total;
        this.listener = listener;
        listener.advanced(0, total);
    }

    /** The total, once known after the copy started. */
    void total(long bytes) {
        total = bytes;
        listener.advanced(done.get(), bytes);
    }

    void advance(long bytes) {
        listener.advanced(done.addAndGet(bytes), total);
    }
}
