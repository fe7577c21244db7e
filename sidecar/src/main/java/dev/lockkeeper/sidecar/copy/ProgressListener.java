package dev.lockkeeper.sidecar.copy;

/** Called from the copying threads after every chunk; implementations must be quick and thread-safe. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> { };

    /** {@code done} counts logical bytes settled so far (holes included), out of {@code total}. */
    void advanced(long done, long total);
}
