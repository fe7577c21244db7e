package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.CopyReport;
import dev.lockkeeper.sidecar.copy.CopyRequest;
import dev.lockkeeper.sidecar.copy.ProgressListener;
import dev.lockkeeper.sidecar.copy.VolumeCopier;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Both volumes on this node: the copy engine copies path to path, no network hop. The node-wide rate and the cancel
 * switch act through the engine's progress callback, which its copying threads call after every chunk: waiting
 * there slows the copy, and throwing there stops it and removes the unfinished target the way any failure does.
 */
final class LocalCopy {
    private final VolumeCopier engine = new VolumeCopier();

    /** Thrown from the progress callback to stop a copy; the engine removes its partial target on the way out. */
    private static final class Stopped extends RuntimeException {
        Stopped(String message) {
            super(message, null, false, false);
        }
    }

    TransferOutcome copy(CopyTask task, Path source, Path target, TransferProgress progress, BooleanSupplier canceled,
                         RateLimiter rate) throws TransferException {
        CopyRequest request = CopyRequest.of(source, target).withContent(task.content()).withPreallocate(task.preallocate())
                .withTargetIsZero(task.targetIsZero()).withVerify(task.verify())
                .withFilesystemOverhead(task.filesystemOverhead())
                .withProgress(new Listener(progress, canceled, rate, task.verify()));
        try {
            CopyReport report = engine.copy(request);
            return new TransferOutcome(report.logicalBytes(), report.dataBytes(), report.holeBytes(), 0, 0, report.checksum());
        } catch (CopyException e) {
            throw new TransferException(e.getMessage(), false, e);
        } catch (Stopped e) {
            throw new TransferException(e.getMessage(), false);
        }
    }

    /** Charges each chunk to the rate limiter, reports progress, and stops the copy when the task is canceled. */
    private static final class Listener implements ProgressListener {
        private final TransferProgress progress;
        private final BooleanSupplier canceled;
        private final RateLimiter rate;
        private final boolean verify;
        private final AtomicLong charged = new AtomicLong();
        private final AtomicBoolean verifying = new AtomicBoolean();

        Listener(TransferProgress progress, BooleanSupplier canceled, RateLimiter rate, boolean verify) {
            this.progress = progress;
            this.canceled = canceled;
            this.rate = rate;
            this.verify = verify;
        }

        @Override
        public void advanced(long done, long total) {
            if (canceled.getAsBoolean()) throw new Stopped("canceled");
            long delta = done - charged.getAndAccumulate(done, Math::max);
            if (delta > 0) {
                try {
                    rate.acquire(delta);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Stopped("interrupted");
                }
            }
            progress.update(done, total, 0, 0);
            // the engine reads both sides back once every byte is settled
            if (verify && total > 0 && done >= total && verifying.compareAndSet(false, true)) progress.verifying();
        }
    }
}
