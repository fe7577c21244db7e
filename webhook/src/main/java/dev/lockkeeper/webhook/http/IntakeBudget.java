package dev.lockkeeper.webhook.http;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide count of reviews in flight and body bytes they hold. A claim is taken before the
 * first body byte is read and given back once the answer is sent (or the client is gone), so a flood
 * of large or slow bodies is refused at the door instead of filling the heap.
 */
final class IntakeBudget {
    private final IntakeLimits limits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong buffered = new AtomicLong();

    IntakeBudget(IntakeLimits limits) {
        this.limits = limits;
    }

    /** A claim for one review holding {@code bytes} to start with, or null when the server is full. */
    Claim claim(long bytes) {
        if (inFlight.incrementAndGet() > limits.maxInFlight()) {
            inFlight.decrementAndGet();
            return null;
        }
        Claim claim = new Claim();
        if (!claim.growTo(bytes)) {
            claim.release();
            return null;
        }
        return claim;
    }

    int inFlight() {
        return inFlight.get();
    }

    long buffered() {
        return buffered.get();
    }

    /** One review's share; released exactly once however the review ends. */
    final class Claim {
        private long held;
        private boolean released;

        /** Raises this claim to {@code bytes}; false (nothing taken) when the budget would be exceeded. */
        synchronized boolean growTo(long bytes) {
            if (released || bytes <= held) return !released;
            long more = bytes - held;
            if (buffered.addAndGet(more) > limits.maxBufferedBytes()) {
                buffered.addAndGet(-more);
                return false;
            }
            held = bytes;
            return true;
        }

        synchronized void release() {
            if (released) return;
            released = true;
            buffered.addAndGet(-held);
            inFlight.decrementAndGet();
        }
    }
}
