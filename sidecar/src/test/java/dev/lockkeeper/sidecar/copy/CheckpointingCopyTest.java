package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.testing.Images;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A resumable local image copy (the agent's): checkpoints are recorded beside the copy, never in its way. */
class CheckpointingCopyTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;

    /** Records marks in memory; the first {@link #record} can be made to wait, as a slow disk's fsync would. */
    private static class Marks implements CopyCheckpoints {
        final List<Mark> recorded = new CopyOnWriteArrayList<>();

        @Override
        public Optional<Mark> last() {
            return Optional.empty();
        }

        @Override
        public void record(Mark mark) {
            recorded.add(mark);
        }

        @Override
        public void forget() {}

        @Override
        public long everyBytes() {
            return 16 * MiB;
        }

        @Override
        public Duration every() {
            return Duration.ofHours(1);
        }
    }

    @Test
    void theCopyGoesOnWhileACheckpointIsBeingRecorded() throws Exception {
        long size = 128 * MiB;
        Path source = Images.sparse(dir.resolve("source.img"), size, 0, size);
        Path target = dir.resolve("target.img");
        AtomicLong done = new AtomicLong();
        Object moved = new Object();
        long[] progressSeenByFirstRecord = new long[2];
        Marks marks = new Marks() {
            @Override
            public void record(Mark mark) {
                if (recorded.isEmpty()) {
                    // held until the copy has moved far past this mark: more chunks than the copy has workers, so only
                    // a
                    // copy that keeps writing while a checkpoint is recorded gets there (or until the copy is done)
                    long wanted = Math.min(mark.offset() + 3L * ImageCopier.WORKERS * ImageCopier.CHUNK, size);
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    synchronized (moved) {
                        while (done.get() < wanted && System.nanoTime() < until) {
                            try {
                                moved.wait(100);
                            } catch (InterruptedException e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                    progressSeenByFirstRecord[0] = mark.offset();
                    progressSeenByFirstRecord[1] = done.get();
                }
                super.record(mark);
            }
        };
        ProgressListener progress = (bytes, total) -> {
            done.accumulateAndGet(bytes, Math::max);
            synchronized (moved) {
                moved.notifyAll();
            }
        };

        new VolumeCopier()
                .copy(CopyRequest.of(source, target).withCheckpoints(marks).withProgress(progress));

        assertEquals(-1, Files.mismatch(source, target));
        assertFalse(marks.recorded.isEmpty());
        long mark = progressSeenByFirstRecord[0];
        assertTrue(
                progressSeenByFirstRecord[1] >= Math.min(mark + 3L * ImageCopier.WORKERS * ImageCopier.CHUNK, size),
                "while the checkpoint at " + mark + " was recorded the copy stood at " + progressSeenByFirstRecord[1]);
        for (int i = 1; i < marks.recorded.size(); i++) {
            assertTrue(
                    marks.recorded.get(i).offset() > marks.recorded.get(i - 1).offset(),
                    "marks go forward: " + marks.recorded);
        }
    }

    @Test
    void holesDoNotCountTowardsTheCheckpointInterval() throws Exception {
        // 8 MiB of data around a 240 MiB hole: half an interval of work, however far the image reaches
        Path source = Images.sparse(dir.resolve("source.img"), 256 * MiB, 0, 4 * MiB, 252 * MiB, 4 * MiB);
        Path target = dir.resolve("target.img");
        Marks marks = new Marks();

        new VolumeCopier().copy(CopyRequest.of(source, target).withCheckpoints(marks));

        assertEquals(List.of(), marks.recorded, "no checkpoint before 16 MiB of data are written");
        assertEquals(-1, Files.mismatch(source, target));
    }

    @Test
    void aCheckpointThatCannotBeRecordedFailsTheCopyAndLeavesNoTarget() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 64 * MiB, 0, 64 * MiB);
        Path target = dir.resolve("target.img");
        Marks failing = new Marks() {
            @Override
            public void record(Mark mark) {
                throw new UncheckedIOException(new java.io.IOException("state directory: No space left on device"));
            }
        };

        Exception failed = assertThrows(
                Exception.class,
                () -> new VolumeCopier().copy(CopyRequest.of(source, target).withCheckpoints(failing)));

        assertTrue(String.valueOf(failed.getMessage()).contains("No space left"), String.valueOf(failed));
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(ImageTransfer.partialNameFor(target)));
    }
}
