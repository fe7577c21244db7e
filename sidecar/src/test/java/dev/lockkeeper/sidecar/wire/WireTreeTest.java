package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.TreeDigest;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.lockkeeper.sidecar.wire.Trees.MiB;
import static org.junit.jupiter.api.Assertions.*;

/** Filesystem volume to filesystem volume (content archive) between two nodes over real TLS on loopback. */
class WireTreeTest {
    private static final String STAGING = ".lockkeeper-partial";
    private static final TransferProgress QUIET = new TransferProgress() {
        @Override
        public void update(long done, long total, long dataBytes, long holeBytes) { }

        @Override
        public void verifying() { }
    };

    @TempDir
    Path dir;
    private WireNodes nodes;

    @BeforeEach
    void start() throws IOException {
        nodes = new WireNodes(dir, new DataServer.Options(Duration.ofSeconds(5), Duration.ofMillis(200), WireMetrics.NONE));
    }

    @AfterEach
    void stop() throws IOException {
        nodes.close();
    }

    private static TlsPuller.Options small() {
        return TlsPuller.Options.DEFAULT.withCheckpointBytes(2 * MiB).withStall(Duration.ofSeconds(5));
    }

    private TransferOutcome pull(String task, Path target, MemoryCheckpoints checkpoints) throws Exception {
        return nodes.puller(small()).pull(WireNodes.request(task, nodes.address(), target, Content.ARCHIVE), checkpoints, QUIET, () -> false);
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
        assertEquals(NativeFile.statNoFollow(target.resolve("etc/hosts")).identity(),
                NativeFile.statNoFollow(target.resolve("etc/deep/hosts-again")).identity(), "a hard link stays one inode");
        Path sparse = Path.of("etc/deep/er/sparse.img");
        assertEquals(Commands.allocatedBytes(source.resolve(sparse)), Commands.allocatedBytes(target.resolve(sparse)), "du of the sparse file");
        assertEquals(3 * MiB, Commands.allocatedBytes(target.resolve(sparse)));
        assertEquals("", Commands.ok("diff", "-r", "--no-dereference", "-x", "fifo", "-x", "lost+found", source.toString(), target.toString()));
        assertFalse(Files.exists(target.resolve(STAGING)));
        assertFalse(Files.exists(target.resolve("lost+found")));
        assertFalse(Files.exists(target.resolve("fifo")));
        assertTrue(outcome.digest().orElseThrow().startsWith("tree+"), outcome.toString());
        assertEquals(TreeDigest.summarize(source).content(), outcome.digest().orElseThrow());
        assertEquals(TreeDigest.summarize(source), TreeDigest.summarize(target), "content and hard links");
    }
}
