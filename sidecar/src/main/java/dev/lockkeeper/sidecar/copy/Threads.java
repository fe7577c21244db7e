package dev.lockkeeper.sidecar.copy;

/** Ending the threads a copy or a transfer starts to read or write its buffers. */
public final class Threads {
    private Threads() {}

    /**
     * Waits until every one of {@code threads} has ended, interrupted or not: the buffers they read into or write from
     * may be released only after that. An interrupt that arrives meanwhile is kept for the caller.
     */
    public static void awaitEnd(Iterable<Thread> threads) {
        boolean interrupted = false;
        for (Thread thread : threads) {
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
