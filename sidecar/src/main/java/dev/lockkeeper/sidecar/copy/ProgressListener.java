package dev.lockkeeper.sidecar.copy;

/** Called from the copying threads after every chunk; implementations must be quick and thread-safe. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> {};

    /** The total while a tree is still being counted. */
    long UNKNOWN_TOTAL = -1;

    /** {@code done} counts logical bytes settled so far (holes included), out of {@code total} (or {@link #UNKNOWN_TOTAL}). */
    void advanced(long done, long total);
}
