package dev.lockkeeper.sidecar.copy;

import java.time.Duration;
import java.util.Optional;

/**
 * Makes a local image copy resumable: the engine syncs its target, then records how far it is durable, every
 * {@link #everyBytes} bytes of data written or {@link #every} (whichever comes first; holes are not counted, a resumed
 * copy redoes them for nothing); a later copy of the same source to the same
 * target continues from the last record instead of from byte 0. Only what is recorded here survives: the caller keeps
 * it somewhere that outlives the process (the agent's state directory).
 */
public interface CopyCheckpoints {
    /** Not resumable: every copy starts afresh and a failed one removes its partial target (the {@code copy} command). */
    CopyCheckpoints NONE = new CopyCheckpoints() {
        @Override
        public Optional<Mark> last() {
            return Optional.empty();
        }

        @Override
        public void record(Mark mark) {}

        @Override
        public void forget() {}

        @Override
        public long everyBytes() {
            return Long.MAX_VALUE;
        }

        @Override
        public Duration every() {
            return Duration.ofSeconds(Long.MAX_VALUE);
        }
    };

    /**
     * @param offset            image bytes {@code [0, offset)} of the target's body are written and synced
     * @param sourceFingerprint the source when the mark was recorded: a source that changed since is never stitched
     *                          to what was copied of it before
     */
    record Mark(long offset, String sourceFingerprint) {}

    Optional<Mark> last();

    /** Called only once the data before {@code mark.offset()} is durable on the target. */
    void record(Mark mark);

    void forget();

    /** The copy continues from {@code offset}, which an earlier attempt recorded (the partial target is still there). */
    default void resuming(long offset) {}

    long everyBytes();

    Duration every();

    /**
     * Thrown by a caller (from its progress listener) to stop a resumable copy so that it can continue later: the
     * partial target and the last mark are kept. Any other failure removes both.
     */
    final class Pause extends RuntimeException {
        public Pause(String message) {
            super(message, null, false, false);
        }
    }
}
