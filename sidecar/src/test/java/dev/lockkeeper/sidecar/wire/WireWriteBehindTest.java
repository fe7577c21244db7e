package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.wire.WireMetrics.Kind;
import dev.lockkeeper.sidecar.wire.WireMetrics.Role;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target's write-behind ({@link WriteBehind}) through a real pull: frames are received ahead of the disk, but only
 * up to the buffers' bound, checkpoints are recorded only once the data before them is written and synced, and a
 * failing write fails the transfer with nothing claimed. A seam in front of the image target holds or fails writes
 * and records the order of writes, syncs and checkpoint records.
 */
class WireWriteBehindTest {
    private static final long MiB = 1 << 20;
    private static final long SIZE = 40 * MiB;

    @TempDir
    Path dir;

    private WireNodes nodes;

    @BeforeEach
    void start() throws IOException {
        nodes = new WireNodes(dir, WireNodes.BRISK);
    }

    @AfterEach
    void stop() throws IOException {
        nodes.close();
    }

    /** What reached the target's disk, in the order it happened: "data END", "sync", "checkpoint OFFSET". */
    private static final class Journal {
        final List<String> events = new ArrayList<>();

        synchronized void add(String event) {
            events.add(event);
        }

        synchronized List<String> copy() {
            return List.copyOf(events);
        }
    }

    /** A seam in front of the image target: every data write waits for {@code gate}, then is journaled. */
    private static WriteBehind.Disk held(WriteBehind.Disk disk, Journal journal, CountDownLatch gate) {
        return new WriteBehind.Disk() {
            @Override
            public void data(MemorySegment buffer, long bufferStart, long offset, long length) throws CopyException {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new CopyException("interrupted");
                }
                disk.data(buffer, bufferStart, offset, length);
                journal.add("data " + (offset + length));
            }

            @Override
            public void zero(long offset, long length) throws CopyException {
                disk.zero(offset, length);
            }

            @Override
            public void makeDurable() throws CopyException {
                disk.makeDurable();
                journal.add("sync");
            }
        };
    }

    private static CheckpointStore journaled(MemoryCheckpoints store, Journal journal) {
        return new CheckpointStore() {
            @Override
            public Optional<Checkpoint> load() {
                return store.load();
            }

            @Override
            public void save(Checkpoint checkpoint) {
                journal.add("checkpoint " + checkpoint.offset());
                store.save(checkpoint);
            }

            @Override
            public void clear() {
                store.clear();
            }
        };
    }

    /** Counts the DATA frames the target's reader took off the connection (after their CRC check). */
    private static final class Received implements WireMetrics {
        final AtomicInteger frames = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();

        @Override
        public void bytes(Role role, Kind kind, long count) {
            if (role == Role.TARGET && kind == Kind.DATA) {
                frames.incrementAndGet();
                bytes.addAndGet(count);
            }
        }
    }

    /** Whether {@code thread} waits for a free write-behind buffer: it stays so until a write finishes. */
    private static boolean waitingForABuffer(Thread thread) {
        return thread.getState() == Thread.State.WAITING
                && Arrays.stream(thread.getStackTrace())
                        .anyMatch(frame -> frame.getClassName().equals(WriteBehind.class.getName())
                                && frame.getMethodName().equals("slot"));
    }

    @Test
    @Timeout(120)
    void aTargetWhoseDiskIsHeldReadsUpToItsBufferBoundThenCheckpointsOnlyWhatIsSynced() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), SIZE, 0, SIZE);
        Path target = dir.resolve("target.img");
        nodes.serve("w1", source, Content.KUBEVIRT);
        Journal journal = new Journal();
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        CountDownLatch gate = new CountDownLatch(1);
        Received received = new Received();
        int slots = 3;
        TlsPuller puller = nodes.puller(
                TlsPuller.Options.DEFAULT
                        .withCheckpointBytes(4 * MiB)
                        .withStall(Duration.ofSeconds(60))
                        .withMetrics(received)
                        .withWriteBehind(slots, 1),
                disk -> held(disk, journal, gate));
        CompletableFuture<TransferOutcome> pulled = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                pulled.complete(puller.pull(
                        WireNodes.request("w1", nodes.address(), target, Content.KUBEVIRT),
                        journaled(checkpoints, journal),
                        WireNodes.QUIET,
                        () -> false));
            } catch (Throwable e) {
                pulled.completeExceptionally(e);
            }
        });

        while (!waitingForABuffer(reader)) {
            assertFalse(pulled.isDone(), () -> "the pull ended while its disk was held: " + pulled);
            assertTrue(
                    received.frames.get() <= slots,
                    () -> received.frames + " DATA frames taken off the connection with " + slots
                            + " buffers and no write finished");
            TimeUnit.MILLISECONDS.sleep(20);
        }
        // one buffer in the held write, the others queued behind it: that many frames, and not one more
        assertEquals(slots, received.frames.get(), "DATA frames taken off the connection while the disk is held");
        assertTrue(received.bytes.get() <= slots * (long) Frames.MAX_DATA_PAYLOAD, "bytes held " + received.bytes);
        assertTrue(checkpoints.saved.isEmpty(), "checkpoints recorded before any write finished: " + checkpoints.saved);
        assertTrue(journal.copy().isEmpty(), journal.copy().toString());

        gate.countDown();
        TransferOutcome outcome = pulled.get(60, TimeUnit.SECONDS);
        assertEquals(SIZE, outcome.dataBytes());
        assertTrue(Commands.sameBytes(source, target, SIZE), "cmp " + source + " " + target);

        List<String> events = journal.copy();
        long written = 0;
        long synced = 0;
        int checkpointsSeen = 0;
        for (String event : events) {
            String[] parts = event.split(" ");
            switch (parts[0]) {
                case "data" -> written = Math.max(written, Long.parseLong(parts[1]));
                case "sync" -> synced = written;
                case "checkpoint" -> {
                    checkpointsSeen++;
                    long offset = Long.parseLong(parts[1]);
                    assertTrue(
                            offset <= synced,
                            "checkpoint at " + offset + " recorded when only " + synced
                                    + " bytes were written and synced: " + events);
                }
                default -> fail(event);
            }
        }
        assertTrue(checkpointsSeen >= 2, "checkpoints every 4 MiB of 40 MiB: " + events);
    }

    @Test
    @Timeout(120)
    void aFailingWriteFailsTheTransferWithNothingClaimed() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), SIZE, 0, SIZE);
        Path target = dir.resolve("target.img");
        nodes.serve("w2", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        AtomicInteger writes = new AtomicInteger();
        TlsPuller puller = nodes.puller(
                TlsPuller.Options.DEFAULT.withCheckpointBytes(4 * MiB).withWriteBehind(2, 2),
                disk -> new WriteBehind.Disk() {
                    @Override
                    public void data(MemorySegment buffer, long bufferStart, long offset, long length)
                            throws CopyException {
                        if (writes.incrementAndGet() == 5) {
                            throw new CopyException("target ran out of space: pwrite at " + offset + ": ENOSPC");
                        }
                        disk.data(buffer, bufferStart, offset, length);
                    }

                    @Override
                    public void zero(long offset, long length) throws CopyException {
                        disk.zero(offset, length);
                    }

                    @Override
                    public void makeDurable() throws CopyException {
                        disk.makeDurable();
                    }
                });
        TransferException failed = assertThrows(
                TransferException.class,
                () -> puller.pull(
                        WireNodes.request("w2", nodes.address(), target, Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false));
        assertFalse(failed.retryable(), failed.getMessage());
        assertTrue(failed.getMessage().startsWith("target ran out of space"), failed.getMessage());
        assertTrue(checkpoints.load().isEmpty(), "a failed target claims no checkpoint");
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(target)), "the partial file is removed");
    }

    @Test
    @Timeout(120)
    void aResetConnectionCheckpointsWhatArrivedBeforeIt() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), SIZE, 0, SIZE);
        Path target = dir.resolve("target.img");
        nodes.serve("w3", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        // no periodic checkpoint within this image: the only one is the failing attempt's
        TlsPuller puller = nodes.puller(TlsPuller.Options.DEFAULT.withStall(Duration.ofSeconds(5)), disk -> disk);
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 17 * MiB)) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> puller.pull(
                            WireNodes.request("w3", proxy.address(), target, Content.KUBEVIRT),
                            checkpoints,
                            WireNodes.QUIET,
                            () -> false));
            assertTrue(failed.retryable(), failed.getMessage());
        }
        Checkpoint checkpoint = checkpoints.load().orElseThrow(() -> new AssertionError("no checkpoint saved"));
        assertTrue(checkpoint.offset() >= 8 * MiB, "checkpoint at " + checkpoint.offset());
        Path partial = ImageStreamTarget.partialNameFor(target);
        assertTrue(
                Commands.sameBytes(source, partial, checkpoint.offset()),
                "every byte before the checkpoint is in the partial file");
        TransferOutcome resumed = puller.pull(
                WireNodes.request("w3", nodes.address(), target, Content.KUBEVIRT),
                checkpoints,
                WireNodes.QUIET,
                () -> false);
        assertEquals(checkpoint.offset(), resumed.resumedFrom());
        assertTrue(Commands.sameBytes(source, target, SIZE));
    }
}
