package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.copy.CopyCheckpoints;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.CopyReport;
import dev.lockkeeper.sidecar.copy.CopyRequest;
import dev.lockkeeper.sidecar.copy.ProgressListener;
import dev.lockkeeper.sidecar.copy.VolumeCopier;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Both volumes on this node: the copy engine copies path to path, no network hop. The node-wide rate and the cancel
 * switch act through the engine's progress callback, which its copying threads call after every chunk: waiting
 * there slows the copy, and throwing there stops it. An image copy records checkpoints in the task's store (the
 * agent's state directory), so a copy interrupted by a restart of the agent, or by a kill, continues from the last
 * one; a cancel or a failure removes the unfinished target. A tree copy starts afresh on every attempt (its staging
 * directory is emptied first, so nothing unfinished is ever taken for complete).
 */
final class LocalCopy {
    private final VolumeCopier engine = new VolumeCopier();
    private final long checkpointBytes;
    private final Duration checkpointInterval;

    LocalCopy(long checkpointBytes, Duration checkpointInterval) {
        this.checkpointBytes = checkpointBytes;
        this.checkpointInterval = checkpointInterval;
    }

    /** Thrown from the progress callback to stop a canceled copy; the engine removes its partial target on the way out. */
    private static final class Stopped extends RuntimeException {
        Stopped(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * @param canceled the task was canceled: stop and remove the unfinished target
     * @param stopping the agent is stopping: stop and keep what is durable for the next start
     */
    TransferOutcome copy(
            CopyTask task,
            Path source,
            Path target,
            TransferProgress progress,
            BooleanSupplier canceled,
            BooleanSupplier stopping,
            RateLimiter rate,
            CheckpointStore checkpoints)
            throws TransferException {
        Resume resume = new Resume(checkpoints);
        Listener listener = new Listener(progress, canceled, stopping, rate, task.verify());
        resume.listener = listener;
        CopyRequest request = CopyRequest.of(source, target)
                .withContent(task.content())
                .withPreallocate(task.preallocate())
                .withTargetIsZero(task.targetIsZero())
                .withVerify(task.verify())
                .withFilesystemOverhead(task.filesystemOverhead())
                .withProgress(listener)
                .withCheckpoints(resume);
        try {
            CopyReport report = engine.copy(request);
            return new TransferOutcome(
                    report.logicalBytes(),
                    report.dataBytes(),
                    report.holeBytes(),
                    resume.resumedFrom,
                    0,
                    report.checksum());
        } catch (CopyException e) {
            throw new TransferException(e.getMessage(), false, e);
        } catch (Stopped e) {
            throw new TransferException(e.getMessage(), false);
        } catch (CopyCheckpoints.Pause e) {
            throw new TransferException(e.getMessage(), true);
        }
    }

    /** The engine's checkpoints, kept in the task's store beside those of streams between nodes. */
    private final class Resume implements CopyCheckpoints {
        private final CheckpointStore store;
        private Listener listener;
        private long resumedFrom;

        Resume(CheckpointStore store) {
            this.store = store;
        }

        @Override
        public Optional<Mark> last() {
            // a tree's entry ordinal is no image offset: such a checkpoint is not this copy's
            return store.load().filter(c -> c.entries() == 0).map(c -> new Mark(c.offset(), c.sourceFingerprint()));
        }

        @Override
        public void record(Mark mark) {
            store.save(new Checkpoint(mark.offset(), 0, mark.sourceFingerprint()));
        }

        @Override
        public void forget() {
            store.clear();
        }

        @Override
        public void resuming(long offset) {
            resumedFrom = offset;
            listener.alreadyCharged(offset); // the bytes an earlier attempt copied are not charged to the rate again
        }

        @Override
        public long everyBytes() {
            return checkpointBytes;
        }

        @Override
        public Duration every() {
            return checkpointInterval;
        }
    }

    /** Charges each chunk to the rate limiter, reports progress, and stops the copy when the task is canceled. */
    private static final class Listener implements ProgressListener {
        private final TransferProgress progress;
        private final BooleanSupplier canceled;
        private final BooleanSupplier stopping;
        private final RateLimiter rate;
        private final boolean verify;
        private final AtomicLong charged = new AtomicLong();
        private final AtomicBoolean verifying = new AtomicBoolean();

        Listener(
                TransferProgress progress,
                BooleanSupplier canceled,
                BooleanSupplier stopping,
                RateLimiter rate,
                boolean verify) {
            this.progress = progress;
            this.canceled = canceled;
            this.stopping = stopping;
            this.rate = rate;
            this.verify = verify;
        }

        void alreadyCharged(long bytes) {
            charged.accumulateAndGet(bytes, Math::max);
        }

        @Override
        public void advanced(long done, long total) {
            if (canceled.getAsBoolean()) throw new Stopped("canceled");
            if (stopping.getAsBoolean()) throw new CopyCheckpoints.Pause("the agent is stopping");
            long delta = done - charged.getAndAccumulate(done, Math::max);
            if (delta > 0) {
                try {
                    rate.acquire(delta);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CopyCheckpoints.Pause("interrupted");
                }
            }
            progress.update(done, total, 0, 0);
            // the engine reads both sides back once every byte is settled
            if (verify && total > 0 && done >= total && verifying.compareAndSet(false, true)) progress.verifying();
        }
    }
}
