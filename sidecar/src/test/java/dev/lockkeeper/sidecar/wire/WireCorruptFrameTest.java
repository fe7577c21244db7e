package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.wire.Frames.Header;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DATA frame whose CRC32C is wrong, from a source with a valid certificate: TLS cannot catch it (the corruption
 * happened before the bytes were sealed), so the target's own check must. The target's writers check each frame
 * before writing it while its reader receives the next ones; the frame is never written, the attempt fails as
 * worth retrying, counted as a CRC error, and the checkpoint it leaves stops right before the bad frame, so the next
 * attempt sends that frame again and nothing else before it.
 */
class WireCorruptFrameTest {
    private static final int MiB = 1 << 20;
    private static final long SIZE = 24L * MiB;
    private static final long CORRUPT_AT = 8L * MiB;

    @TempDir
    Path dir;

    private NodeIdentities identities;
    private Path expected;

    @BeforeEach
    void image() throws IOException {
        identities = new NodeIdentities(dir.resolve("pki"));
        expected = dir.resolve("expected.img");
        try (RandomAccessFile file = new RandomAccessFile(expected.toFile(), "rw")) {
            for (long offset = 0; offset < SIZE; offset += MiB) file.write(mebibyte(offset));
        }
    }

    /** Every MiB of the image a different non-zero byte, so a misplaced or missing one shows. */
    private static byte[] mebibyte(long offset) {
        byte[] bytes = new byte[MiB];
        Arrays.fill(bytes, (byte) (offset / MiB + 1));
        return bytes;
    }

    /**
     * Serves the image in 1 MiB DATA frames for every RANGE asked, the frame at {@code corruptAt} (if any) with its
     * CRC flipped; stops after the bad frame's range, as a source whose target hung up.
     */
    private ForgedSource source(long corruptAt, AtomicInteger ranges) throws IOException {
        Messages.Info info = new Messages.Info(SIZE, SIZE, 0644, true, Content.KUBEVIRT, "file:forged");
        return new ForgedSource(NodeTls.load(identities.node("src")), info, (in, out, raw) -> {
            while (true) {
                Header request = in.next();
                if (request.type() == FrameType.BYE) return;
                assertEquals(FrameType.RANGE, request.type());
                ranges.incrementAndGet();
                long end = request.offset() + request.span();
                for (long offset = request.offset(); offset < end; offset += MiB) {
                    MemorySegment data = MemorySegment.ofArray(mebibyte(offset));
                    int crc = Frames.dataCrc(data, offset);
                    out.data(data, offset, offset == corruptAt ? crc ^ 1 : crc);
                }
                out.control(FrameType.END, 0, end, 0, new Messages.End(request.span(), 0).encode());
                out.flush();
            }
        });
    }

    private static PullRequest request(ForgedSource source, Path target) {
        return new PullRequest(
                "c",
                1,
                "src",
                source.address(),
                target,
                Content.KUBEVIRT,
                false,
                false,
                0.06,
                false,
                RateLimiter.UNLIMITED);
    }

    @Test
    @Timeout(60)
    void aFrameFailingItsCrcIsNeverWrittenAndTheNextAttemptResumesRightBeforeIt() throws Exception {
        Path target = dir.resolve("target.img");
        AtomicInteger crcErrors = new AtomicInteger();
        WireMetrics metrics = new WireMetrics() {
            @Override
            public void crcError() {
                crcErrors.incrementAndGet();
            }
        };
        TlsPuller puller = new TlsPuller(
                NodeTls.load(identities.node("dst")),
                // a periodic checkpoint after every MiB: none may be recorded past the bad frame either, even for a
                // moment (an agent killed then would resume after it)
                TlsPuller.Options.DEFAULT
                        .withStall(Duration.ofSeconds(5))
                        .withMetrics(metrics)
                        .withCheckpointBytes(MiB));
        List<Long> saved = new CopyOnWriteArrayList<>();
        MemoryCheckpoints store = new MemoryCheckpoints();
        CheckpointStore checkpoints = new CheckpointStore() {
            @Override
            public Optional<Checkpoint> load() {
                return store.load();
            }

            @Override
            public void save(Checkpoint checkpoint) {
                saved.add(checkpoint.offset());
                store.save(checkpoint);
            }

            @Override
            public void clear() {
                store.clear();
            }
        };
        try (ForgedSource corrupting = source(CORRUPT_AT, new AtomicInteger())) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> puller.pull(request(corrupting, target), checkpoints, WireNodes.QUIET, () -> false));
            assertTrue(failed.retryable(), failed.getMessage());
            assertTrue(
                    failed.getMessage().contains("DATA frame at offset " + CORRUPT_AT + " failed its CRC32C check"),
                    failed.getMessage());
        }
        assertEquals(1, crcErrors.get());
        assertTrue(saved.size() > 1, "periodic checkpoints were recorded: " + saved);
        assertTrue(saved.stream().allMatch(offset -> offset <= CORRUPT_AT), "checkpoints recorded: " + saved);
        Checkpoint checkpoint = checkpoints.load().orElseThrow(() -> new AssertionError("no checkpoint saved"));
        assertEquals(CORRUPT_AT, checkpoint.offset(), "the checkpoint claims what came before the bad frame, no more");
        Path partial = ImageStreamTarget.partialNameFor(target);
        assertFalse(Files.exists(target), "a failed attempt publishes nothing");
        assertTrue(Commands.sameBytes(expected, partial, CORRUPT_AT), "every frame before the bad one is written");
        byte[] badFrame = new byte[MiB];
        try (RandomAccessFile file = new RandomAccessFile(partial.toFile(), "r")) {
            file.seek(CORRUPT_AT);
            file.readFully(badFrame);
        }
        assertArrayEquals(new byte[MiB], badFrame, "the frame that failed its CRC is not written");

        AtomicInteger ranges = new AtomicInteger();
        try (ForgedSource honest = source(-1, ranges)) {
            TransferOutcome resumed = puller.pull(request(honest, target), checkpoints, WireNodes.QUIET, () -> false);
            assertEquals(CORRUPT_AT, resumed.resumedFrom());
        }
        assertTrue(Commands.sameBytes(expected, target, SIZE));
        assertEquals(SIZE, Files.size(target));
        assertEquals(1, crcErrors.get());
    }
}
