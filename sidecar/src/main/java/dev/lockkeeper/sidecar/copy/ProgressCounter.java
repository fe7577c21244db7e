package dev.lockkeeper.sidecar.copy;

import java.util.concurrent.atomic.AtomicLong;

/** Logical bytes settled so far, shared by the copying threads, reported to the caller's listener. */
final class ProgressCounter {
    private final AtomicLong done = new AtomicLong();
    private volatile long total;
    private boolean settled;
    private final ProgressListener listener;

    ProgressCounter(long total, ProgressListener listener) {
        this.total = total;
        this.listener = listener;
        listener.advanced(0, total);
    }

    /** A total counted while the copy runs; ignored once the copy has settled it (or ended). */
    synchronized void estimate(long bytes) {
        if (settled) return;
        total = bytes;
        listener.advanced(done.get(), bytes);
    }

    /** The exact total, from the copy's own walk. */
    synchronized void settle(long bytes) {
        settled = true;
        total = bytes;
        listener.advanced(done.get(), bytes);
    }

    synchronized boolean settled() {
        return settled;
    }

    /** The copy has ended, however: nothing may report a total after it. */
    synchronized void close() {
        settled = true;
    }

    void advance(long bytes) {
        listener.advanced(done.addAndGet(bytes), total);
    }
}
