package dev.lockkeeper.sidecar.copy;

import java.util.concurrent.atomic.AtomicLong;

/** Logical bytes settled so far, shared by the copying threads, reported to the caller's listener. */
final class ProgressCounter {
    private final AtomicLong done = new AtomicLong();
    private final long total;
    private final ProgressListener listener;

    ProgressCounter(long total, ProgressListener listener) {
        this.total = total;
        this.listener = listener;
        listener.advanced(0, total);
    }

    void advance(long bytes) {
        listener.advanced(done.addAndGet(bytes), total);
    }
}
