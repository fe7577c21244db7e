package dev.lockkeeper.sidecar.wire;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Stall detection for one connection: a socket read has a timeout but a blocked write (a half-open peer whose
 * window stays shut) has none, so every frame in either direction {@link #touch}es the watchdog, and a connection
 * without progress for the stall timeout is closed, which fails the blocked call on either side.
 */
final class Watchdog implements Closeable {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("lk-wire-watchdog").daemon().factory());

    private final Socket socket;
    private final long stallNanos;
    private final ScheduledFuture<?> check;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean stalled;

    Watchdog(Socket socket, Duration stall) {
        this.socket = socket;
        this.stallNanos = stall.toNanos();
        long period = Math.max(10, stall.toMillis() / 4);
        this.check = TIMER.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    void touch() {
        lastProgress = System.nanoTime();
    }

    /** Whether this watchdog closed the connection (so the failure it caused reads as a stall, not a reset). */
    boolean stalled() {
        return stalled;
    }

    private void check() {
        if (System.nanoTime() - lastProgress < stallNanos) return;
        stalled = true;
        check.cancel(false);
        try {
            socket.close();
        } catch (IOException e) {
            // closing is all the watchdog can do
        }
    }

    @Override
    public void close() {
        check.cancel(false);
    }
}
