package dev.lockkeeper.sidecar.cli;

import dev.lockkeeper.sidecar.copy.ProgressListener;
import dev.lockkeeper.sidecar.copy.Sizes;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples the copy's progress once a second: a self-overwriting line for a terminal, or one JSON object per
 * line for the in-cluster agent (which turns it into the PVC progress annotation and metrics).
 */
final class ProgressReporter implements ProgressListener, AutoCloseable {
    enum Style {
        LINE,
        JSON
    }

    private final Style style;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("lk-progress").factory());
    private volatile long done;
    private volatile long total = -1;

    ProgressReporter(Style style, PrintStream out) {
        this.style = style;
        this.out = out;
        ticker.scheduleAtFixedRate(this::report, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void advanced(long done, long total) {
        boolean first = this.total < 0;
        this.done = done;
        this.total = total;
        if (first) report();
    }

    private synchronized void report() {
        if (total < 0) return;
        long bytes = done;
        double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        double rate = bytes / seconds;
        double percent = total == 0 ? 100 : 100.0 * bytes / total;
        long eta = rate > 0 ? Math.round((total - bytes) / rate) : -1;
        if (style == Style.JSON) {
            out.printf(
                    Locale.ROOT,
                    "{\"event\":\"progress\",\"bytes\":%d,\"total\":%d,\"percent\":%.2f,"
                            + "\"bytesPerSecond\":%d,\"etaSeconds\":%d}%n",
                    bytes,
                    total,
                    percent,
                    Math.round(rate),
                    eta);
        } else {
            out.printf(
                    Locale.ROOT,
                    "\r%10s / %-10s %6.2f%%  %8.1f MB/s  ETA %s   ",
                    Sizes.human(bytes),
                    Sizes.human(total),
                    percent,
                    rate / 1e6,
                    eta < 0 ? "--:--" : String.format(Locale.ROOT, "%d:%02d", eta / 60, eta % 60));
        }
        out.flush();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        if (style == Style.LINE && total >= 0) {
            report();
            out.println();
        }
    }
}
