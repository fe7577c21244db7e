package dev.lockkeeper.sidecar.wire;

import static dev.lockkeeper.sidecar.wire.Trees.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.TreeDigest;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Filesystem volume to filesystem volume (content archive) between two nodes over real TLS on loopback. */
class WireTreeTest {
    private static final String STAGING = ".lockkeeper-partial";

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

    private static TlsPuller.Options small() {
        return TlsPuller.Options.DEFAULT.withCheckpointBytes(2 * MiB).withStall(Duration.ofSeconds(5));
    }

    private TransferOutcome pull(String task, Path target, MemoryCheckpoints checkpoints) throws Exception {
        return nodes.puller(small())
                .pull(
                        WireNodes.request(task, nodes.address(), target, Content.ARCHIVE),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
    }

    private static Map<String, String> withoutSkipped(Path source) throws IOException {
        Map<String, String> expected = Trees.describe(source);
        expected.remove("fifo");
        return expected;
    }

    @Test
    void aTreeArrivesWithOwnersModesXattrsHardLinksSymlinksTimesAndHoles() throws Exception {
        Path source = Trees.rich(Files.createDirectories(dir.resolve("source")));
        Path target = dir.resolve("target");
        nodes.serve("t1", source, Content.ARCHIVE);

        TransferOutcome outcome = pull("t1", target, new MemoryCheckpoints());

        assertEquals(withoutSkipped(source), Trees.describe(target));
        assertEquals(
                NativeFile.statNoFollow(target.resolve("etc/hosts")).identity(),
                NativeFile.statNoFollow(target.resolve("etc/deep/hosts-again")).identity(),
                "a hard link stays one inode");
        Path sparse = Path.of("etc/deep/er/sparse.img");
        Allocation.assertSame(source.resolve(sparse), target.resolve(sparse));
        assertEquals(3 * MiB, Commands.allocatedBytes(target.resolve(sparse)));
        assertEquals(
                "",
                Commands.ok(
                        "diff",
                        "-r",
                        "--no-dereference",
                        "-x",
                        "fifo",
                        "-x",
                        "lost+found",
                        source.toString(),
                        target.toString()));
        assertFalse(Files.exists(target.resolve(STAGING)));
        assertFalse(Files.exists(target.resolve("lost+found")));
        assertFalse(Files.exists(target.resolve("fifo")));
        assertTrue(outcome.digest().orElseThrow().startsWith("tree+"), outcome.toString());
        assertEquals(TreeDigest.summarize(source).content(), outcome.digest().orElseThrow());
        assertEquals(TreeDigest.summarize(source), TreeDigest.summarize(target), "content and hard links");
    }

    @Test
    void aResetMidTreeResumesAfterTheLastDurableEntryNotFromTheStart() throws Exception {
        Path source = Trees.many(Files.createDirectories(dir.resolve("source")), 24, MiB);
        Path target = dir.resolve("target");
        nodes.serve("r1", source, Content.ARCHIVE);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 14 * MiB)) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("r1", proxy.address(), target, Content.ARCHIVE),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
            assertTrue(proxy.fired());
            assertTrue(failed.retryable(), failed.getMessage());
        }
        Checkpoint checkpoint = checkpoints.load().orElseThrow();
        assertTrue(checkpoint.entries() > 4, "checkpoint at entry " + checkpoint.entries());
        assertTrue(Files.isDirectory(target.resolve(STAGING)), "the staging directory is kept for the next attempt");
        try (var top = Files.list(target)) {
            assertEquals(1, top.count(), "nothing is published before the end");
        }

        TransferOutcome resumed = pull("r1", target, checkpoints);
        assertEquals(checkpoint.entries(), resumed.resumedFrom());
        assertTrue(resumed.dataBytes() < 24 * MiB - 4 * MiB, "resent " + resumed.dataBytes() + " of " + 24 * MiB);
        assertEquals(Trees.describe(source), Trees.describe(target));
        assertEquals(TreeDigest.summarize(source), TreeDigest.summarize(target));
        assertTrue(checkpoints.load().isEmpty(), "a finished task leaves no checkpoint behind");
        assertFalse(Files.exists(target.resolve(STAGING)));
    }

    @Test
    void aResetInsideALargeFileResumesInsideIt() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Images.sparse(source.resolve("big.img"), 32 * MiB, 0, 20 * MiB, 28 * MiB, MiB);
        Files.writeString(source.resolve("zz-after"), "after the big file");
        Path target = dir.resolve("target");
        nodes.serve("r2", source, Content.ARCHIVE);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 12 * MiB)) {
            assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("r2", proxy.address(), target, Content.ARCHIVE),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
        }
        Checkpoint checkpoint = checkpoints.load().orElseThrow();
        assertEquals(0, checkpoint.entries(), "only the root is finished");
        assertTrue(
                checkpoint.offset() >= 4 * MiB && checkpoint.offset() <= 12 * MiB,
                "checkpoint at " + checkpoint.offset());
        // stale bytes after the checkpoint (an attempt killed after writing more) must not survive the resume
        try (var file = new java.io.RandomAccessFile(
                target.resolve(STAGING).resolve("big.img").toFile(), "rw")) {
            file.seek(24 * MiB);
            file.write(new byte[] {1, 2, 3, 4});
        }

        TransferOutcome resumed = pull("r2", target, checkpoints);
        assertTrue(resumed.dataBytes() <= 21 * MiB - checkpoint.offset() + 64, "resent " + resumed.dataBytes());
        assertTrue(Commands.sameBytes(source.resolve("big.img"), target.resolve("big.img"), 32 * MiB));
        Allocation.assertSame(source.resolve("big.img"), target.resolve("big.img"));
        assertEquals(Trees.describe(source), Trees.describe(target));
    }

    @Test
    void aTargetThatIsNotEmptyIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path source = Trees.many(Files.createDirectories(dir.resolve("source")), 2, 4096);
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.writeString(target.resolve("someone-elses"), "data");
        nodes.serve("n1", source, Content.ARCHIVE);
        TransferException failed =
                assertThrows(TransferException.class, () -> pull("n1", target, new MemoryCheckpoints()));
        assertFalse(failed.retryable());
        assertEquals(
                "target directory " + target
                        + " is not empty (it holds someone-elses); a tree is only copied into an empty volume",
                failed.getMessage());
        assertFalse(Files.exists(target.resolve(STAGING)));
    }

    @Test
    void aTreeIsNotStreamedIntoABlockDeviceOrFile() throws Exception {
        Path source = Trees.many(Files.createDirectories(dir.resolve("source")), 1, 4096);
        Path target = Files.writeString(dir.resolve("plain-file"), "x");
        nodes.serve("n2", source, Content.ARCHIVE);
        TransferException failed =
                assertThrows(TransferException.class, () -> pull("n2", target, new MemoryCheckpoints()));
        assertEquals(
                "target " + target + " is not a directory; a tree is copied into a filesystem volume",
                failed.getMessage());
        assertEquals("x", Files.readString(target));
    }
}
