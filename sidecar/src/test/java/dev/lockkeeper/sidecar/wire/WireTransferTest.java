package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.ImageStreamSource;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Source node to target node over real TLS on loopback, for every image combination of the engine, with faults. */
class WireTransferTest {
    private static final long MiB = 1 << 20;
    private static final long SIZE = 40 * MiB;

    @TempDir
    Path dir;

    private WireNodes nodes;
    private final List<LoopDevice> devices = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        nodes = new WireNodes(dir, WireNodes.BRISK);
    }

    @AfterEach
    void stop() throws IOException {
        nodes.close();
        devices.forEach(LoopDevice::close);
    }

    private static TlsPuller.Options small() {
        return TlsPuller.Options.DEFAULT.withCheckpointBytes(4 * MiB).withStall(Duration.ofSeconds(5));
    }

    /** Data at the start (inside a device's header window), in the middle, and a last partial block; holes between. */
    private Path sparseSource(String name) throws IOException {
        return Images.sparse(
                dir.resolve(name), SIZE, 0, 300 << 10, 3 * MiB, 13 * MiB, 25 * MiB, 6 * MiB, SIZE - 4096, 4096);
    }

    private LoopDevice device(String name, long size) throws IOException {
        assumeTrue(Commands.isRoot() && Commands.available("losetup"), "loop devices need root and losetup");
        LoopDevice device = LoopDevice.create(dir.resolve(name), size);
        devices.add(device);
        return device;
    }

    private TransferOutcome pull(String task, Path source, Path target, Content content) throws Exception {
        nodes.serve(task, source, content);
        return nodes.puller(small())
                .pull(
                        WireNodes.request(task, nodes.address(), target, content),
                        new MemoryCheckpoints(),
                        WireNodes.QUIET,
                        () -> false);
    }

    private static String localDigest(Path source, Content content) throws Exception {
        try (ImageStreamSource image = ImageStreamSource.open(source, content)) {
            return image.digest();
        }
    }

    private static void assertSameImage(Path source, Path target) {
        assertTrue(Commands.sameBytes(source, target, SIZE), "cmp " + source + " " + target);
        assertEquals(0, Commands.qemuCompare(source, target).exitCode(), "qemu-img compare");
    }

    @Test
    void fileToFileSendsOnlyDataAndKeepsTheHoles() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        TransferOutcome outcome = pull("t1", source, target, Content.KUBEVIRT);
        assertSameImage(source, target);
        Allocation.assertSame(source, target);
        long data = (300 << 10) + 13 * MiB + 6 * MiB + 4096;
        assertEquals(data, outcome.dataBytes());
        assertEquals(SIZE - data, outcome.holeBytes());
        assertEquals(SIZE, outcome.bytesTotal());
        assertEquals(0, outcome.resumedFrom());
        assertEquals(localDigest(source, Content.KUBEVIRT), outcome.digest().orElseThrow());
        assertTrue(
                outcome.wireBytes() <= data * 1.02,
                "wire bytes " + outcome.wireBytes() + " for " + data + " bytes of data");
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(target)));
    }

    @Test
    void fileOntoADeviceWithOldDataZeroesTheHoles() throws Exception {
        Path source = sparseSource("source.img");
        LoopDevice target = device("target.backing", SIZE).filledWithOldData();
        TransferOutcome outcome = pull("t2", source, target.path(), Content.KUBEVIRT);
        assertSameImage(source, target.path());
        assertEquals(localDigest(source, Content.KUBEVIRT), outcome.digest().orElseThrow());
    }

    @Test
    void deviceToFileSendsZeroRunsAsHeadersOnly() throws Exception {
        LoopDevice source = device("source.backing", SIZE);
        Images.writeRandom(source.path(), 5 * MiB, 3 * MiB, 7);
        Path target = dir.resolve("target.img");
        TransferOutcome outcome = pull("t3", source.path(), target, Content.KUBEVIRT);
        assertSameImage(source.path(), target);
        assertEquals(3 * MiB, outcome.dataBytes());
        assertTrue(outcome.wireBytes() < 3 * MiB * 1.02);
        assertEquals(3 * MiB, Commands.allocatedBytes(target));
    }

    @Test
    void deviceToDevice() throws Exception {
        LoopDevice source = device("source.backing", SIZE);
        Images.writeRandom(source.path(), 0, 2 * MiB, 8);
        Images.writeRandom(source.path(), 20 * MiB, 4 * MiB, 9);
        LoopDevice target = device("target.backing", SIZE).filledWithOldData();
        TransferOutcome outcome = pull("t4", source.path(), target.path(), Content.KUBEVIRT);
        assertSameImage(source.path(), target.path());
        assertEquals(6 * MiB, outcome.dataBytes());
    }

    @Test
    void fileIntoAFilesystemVolumeBecomesItsDiskImageAndBack() throws Exception {
        Path source = sparseSource("source.img");
        Path volume = Files.createDirectory(dir.resolve("volume"));
        pull("t5", source, volume, Content.KUBEVIRT);
        Path image = volume.resolve("disk.img");
        assertSameImage(source, image);
        Allocation.assertSame(source, image);
        Path back = dir.resolve("back.img");
        TransferOutcome outcome = pull("t6", volume, back, Content.KUBEVIRT);
        assertSameImage(source, back);
        assertEquals(localDigest(source, Content.KUBEVIRT), outcome.digest().orElseThrow());
    }

    @Test
    void aDeviceIntoAFilesystemVolumeBecomesItsDiskImage() throws Exception {
        LoopDevice source = device("source.backing", SIZE);
        Images.writeRandom(source.path(), 0, MiB, 10);
        Images.writeRandom(source.path(), 30 * MiB, 2 * MiB, 11);
        Path volume = Files.createDirectory(dir.resolve("volume"));
        TransferOutcome outcome = pull("t8", source.path(), volume, Content.KUBEVIRT);
        assertSameImage(source.path(), volume.resolve("disk.img"));
        assertEquals(3 * MiB, outcome.dataBytes());
        assertEquals(
                localDigest(source.path(), Content.KUBEVIRT), outcome.digest().orElseThrow());
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(volume.resolve("disk.img"))));
    }

    @Test
    void diskImageOfAFilesystemVolumeOntoADevice() throws Exception {
        Path volume = Files.createDirectory(dir.resolve("volume"));
        Path source = Images.sparse(volume.resolve("disk.img"), SIZE, 0, 4096, 9 * MiB, 5 * MiB);
        LoopDevice target = device("target.backing", SIZE).filledWithOldData();
        pull("t7", volume, target.path(), Content.KUBEVIRT);
        assertSameImage(source, target.path());
    }

    @Test
    void aPreallocatedFileTargetIsFullyAllocated() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("t8", source, Content.KUBEVIRT);
        PullRequest base = WireNodes.request("t8", nodes.address(), target, Content.KUBEVIRT);
        PullRequest request = new PullRequest(
                base.taskId(),
                1,
                base.sourceNode(),
                base.sourceAddress(),
                target,
                Content.KUBEVIRT,
                true,
                false,
                0.06,
                true,
                RateLimiter.UNLIMITED);
        nodes.puller(small()).pull(request, new MemoryCheckpoints(), WireNodes.QUIET, () -> false);
        assertSameImage(source, target);
        assertTrue(Commands.allocatedBytes(target) >= SIZE);
    }

    @Test
    void aResetConnectionResumesFromItsCheckpointNotFromByteZero() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("r1", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 10 * MiB)) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("r1", proxy.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
            assertTrue(proxy.fired());
            assertTrue(failed.retryable(), failed.getMessage());
        }
        Checkpoint checkpoint = checkpoints.load().orElseThrow();
        assertTrue(checkpoint.offset() > 4 * MiB && checkpoint.offset() < SIZE, "checkpoint at " + checkpoint.offset());
        assertFalse(Files.exists(target), "an interrupted copy never carries the final name");
        assertTrue(
                Files.exists(ImageStreamTarget.partialNameFor(target)),
                "the partial file is kept for the next attempt");

        TransferOutcome resumed = nodes.puller(small())
                .pull(
                        WireNodes.request("r1", nodes.address(), target, Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
        assertEquals(checkpoint.offset(), resumed.resumedFrom());
        assertSameImage(source, target);
        Allocation.assertSame(source, target);
        assertTrue(resumed.dataBytes() < (300 << 10) + 13 * MiB + 6 * MiB + 4096, "resent " + resumed.dataBytes());
        assertTrue(checkpoints.load().isEmpty(), "a finished task leaves no checkpoint behind");
    }

    @Test
    void staleDataWrittenAfterTheCheckpointIsCleared() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("r2", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 10 * MiB)) {
            assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("r2", proxy.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
        }
        // an earlier attempt that wrote past its last checkpoint and died: garbage where the source has a hole
        Path partial = ImageStreamTarget.partialNameFor(target);
        Images.writeRandom(partial, 17 * MiB, 4 * MiB, 1234);
        checkpoints.save(
                new Checkpoint(4 * MiB, 0, checkpoints.load().orElseThrow().sourceFingerprint()));
        nodes.puller(small())
                .pull(
                        WireNodes.request("r2", nodes.address(), target, Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
        assertSameImage(source, target);
        Allocation.assertSame(source, target);
    }

    @Test
    void aFlippedByteOnTheWireFailsTheAttemptAndTheRetryResumes() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("f1", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.FLIP, 9 * MiB)) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("f1", proxy.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
            assertTrue(proxy.fired());
            assertTrue(failed.retryable(), failed.getMessage());
        }
        long from = checkpoints.load().orElseThrow().offset();
        assertTrue(from > 0);
        TransferOutcome resumed = nodes.puller(small())
                .pull(
                        WireNodes.request("f1", nodes.address(), target, Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
        assertEquals(from, resumed.resumedFrom());
        assertSameImage(source, target);
    }

    @Test
    void aHalfOpenStallIsDetectedAndTheRetryResumes() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("s1", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        TlsPuller.Options quick = small().withStall(Duration.ofSeconds(2));
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.STALL, 9 * MiB)) {
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(quick)
                            .pull(
                                    WireNodes.request("s1", proxy.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
            assertTrue(failed.retryable());
            assertTrue(failed.getMessage().contains("no progress for 2 s"), failed.getMessage());
        }
        TransferOutcome resumed = nodes.puller(small())
                .pull(
                        WireNodes.request("s1", nodes.address(), target, Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
        assertTrue(resumed.resumedFrom() > 0);
        assertSameImage(source, target);
    }

    @Test
    void anInterruptedDeviceCopyKeepsItsHeaderWindowZeroUntilTheEnd() throws Exception {
        Path source = sparseSource("source.img");
        LoopDevice target = device("target.backing", SIZE).filledWithOldData();
        nodes.serve("d1", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 12 * MiB)) {
            assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("d1", proxy.address(), target.path(), Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
        }
        assertArrayEquals(
                new byte[(int) MiB],
                head(target.path(), (int) MiB),
                "the header window stays zero while the copy is unfinished");
        TransferOutcome resumed = nodes.puller(small())
                .pull(
                        WireNodes.request("d1", nodes.address(), target.path(), Content.KUBEVIRT),
                        checkpoints,
                        WireNodes.QUIET,
                        () -> false);
        assertTrue(resumed.resumedFrom() > MiB);
        assertSameImage(source, target.path());
    }

    @Test
    void aSourceChangedBetweenAttemptsFailsTheTaskAndDiscardsTheCopy() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("c1", source, Content.KUBEVIRT);
        MemoryCheckpoints checkpoints = new MemoryCheckpoints();
        try (FaultProxy proxy = new FaultProxy(nodes.address(), FaultProxy.Fault.RESET, 10 * MiB)) {
            assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("c1", proxy.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
        }
        Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(60)));
        TransferException failed = assertThrows(
                TransferException.class,
                () -> nodes.puller(small())
                        .pull(
                                WireNodes.request("c1", nodes.address(), target, Content.KUBEVIRT),
                                checkpoints,
                                WireNodes.QUIET,
                                () -> false));
        assertFalse(failed.retryable());
        assertTrue(failed.getMessage().startsWith("the source changed between attempts"), failed.getMessage());
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(target)));
        assertFalse(Files.exists(target));
        assertTrue(checkpoints.load().isEmpty());
    }

    @Test
    void aServerWhoseCertificateNamesAnotherNodeIsRefusedBeforeAnyByteMoves() throws Exception {
        Path source = sparseSource("source.img");
        Path target = dir.resolve("target.img");
        nodes.serve("i1", source, Content.KUBEVIRT);
        PullRequest request = WireNodes.request("i1", nodes.address(), target, Content.KUBEVIRT);
        PullRequest otherSource = new PullRequest(
                "i1",
                1,
                "other-node",
                request.sourceAddress(),
                target,
                Content.KUBEVIRT,
                false,
                false,
                0.06,
                true,
                RateLimiter.UNLIMITED);
        TransferException refused = assertThrows(
                TransferException.class,
                () -> nodes.puller(small()).pull(otherSource, new MemoryCheckpoints(), WireNodes.QUIET, () -> false));
        assertFalse(refused.retryable());
        assertTrue(
                refused.getMessage()
                        .contains("presents a certificate for node src, not for the task's source node other-node"),
                refused.getMessage());
        assertNothingWritten(target);
    }

    @Test
    void aClientWithACertificateFromAForeignCaIsRefused() throws Exception {
        Path target = dir.resolve("target.img");
        nodes.serve("i2", sparseSource("source.img"), Content.KUBEVIRT);
        TlsPuller foreign = new TlsPuller(NodeTls.load(nodes.identities.foreignNode("dst")), small());
        TransferException refused = assertThrows(
                TransferException.class,
                () -> foreign.pull(
                        WireNodes.request("i2", nodes.address(), target, Content.KUBEVIRT),
                        new MemoryCheckpoints(),
                        WireNodes.QUIET,
                        () -> false));
        assertFalse(refused.retryable(), refused.getMessage());
        assertTrue(refused.getMessage().contains("certificate"), refused.getMessage());
        assertNothingWritten(target);
    }

    @Test
    void aNodeThatIsNotTheTasksTargetIsRefusedBeforeAnyByteMoves() throws Exception {
        Path target = dir.resolve("target.img");
        nodes.tasks.put(
                "i3",
                new WireNodes.Task(
                        new dev.lockkeeper.sidecar.transfer.ServedSource(
                                "i3", sparseSource("source.img"), Content.KUBEVIRT),
                        "some-other-node"));
        AtomicLong wire = new AtomicLong();
        TlsPuller puller = nodes.puller(small().withMetrics(new WireMetrics() {
            @Override
            public void bytes(Role role, Kind kind, long bytes) {
                wire.addAndGet(bytes);
            }
        }));
        TransferException refused = assertThrows(
                TransferException.class,
                () -> puller.pull(
                        WireNodes.request("i3", nodes.address(), target, Content.KUBEVIRT),
                        new MemoryCheckpoints(),
                        WireNodes.QUIET,
                        () -> false));
        assertFalse(refused.retryable());
        assertEquals("source agent src: task i3 is pulled by node some-other-node, not by dst", refused.getMessage());
        assertEquals(0, wire.get());
        assertNothingWritten(target);
    }

    @Test
    void runningOutOfSpaceFailsTheTaskWithNothingClaimed() throws Exception {
        LoopDevice source = device("source.backing", 32 * MiB);
        Images.writeRandom(source.path(), 0, 32 * MiB, 3);
        LoopDevice small = device("small.backing", 16 * MiB);
        Commands.ok("mkfs.ext4", "-q", "-F", small.path().toString());
        try (Mount mount = Mount.device(small.path(), dir.resolve("small"))) {
            Path target = mount.point().resolve("target.img");
            nodes.serve("e1", source.path(), Content.KUBEVIRT);
            MemoryCheckpoints checkpoints = new MemoryCheckpoints();
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("e1", nodes.address(), target, Content.KUBEVIRT),
                                    checkpoints,
                                    WireNodes.QUIET,
                                    () -> false));
            assertFalse(failed.retryable());
            assertTrue(failed.getMessage().startsWith("target ran out of space"), failed.getMessage());
            assertNothingWritten(target);
            assertTrue(checkpoints.load().isEmpty());
        }
    }

    @Test
    void aFilesystemVolumeTooSmallForTheImageAfterOverheadIsRefused() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 64 * MiB, 0, 4096);
        Path volume = dir.resolve("vol");
        assumeTrue(Commands.isRoot(), "mounting tmpfs needs root");
        try (Mount mount = Mount.of("tmpfs", volume, "size=32m")) {
            nodes.serve("e2", source, Content.KUBEVIRT);
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> nodes.puller(small())
                            .pull(
                                    WireNodes.request("e2", nodes.address(), mount.point(), Content.KUBEVIRT),
                                    new MemoryCheckpoints(),
                                    WireNodes.QUIET,
                                    () -> false));
            assertFalse(failed.retryable());
            assertTrue(failed.getMessage().contains("is too small"), failed.getMessage());
            assertNothingWritten(mount.point().resolve("disk.img"));
        }
    }

    @Test
    void aTargetThatIsNeitherAFileNorADeviceNorADirectoryIsRefused() throws Exception {
        Path fifo = dir.resolve("fifo");
        Commands.ok("mkfifo", fifo.toString());
        nodes.serve("e3", sparseSource("source.img"), Content.KUBEVIRT);
        TransferException failed = assertThrows(
                TransferException.class,
                () -> nodes.puller(small())
                        .pull(
                                WireNodes.request("e3", nodes.address(), fifo, Content.KUBEVIRT),
                                new MemoryCheckpoints(),
                                WireNodes.QUIET,
                                () -> false));
        assertFalse(failed.retryable());
        assertEquals(
                "target " + fifo + " is a fifo; expected a block device, a regular file or a directory",
                failed.getMessage());
        assertEquals(
                "p", Commands.ok("stat", "-c", "%A", fifo.toString()).substring(0, 1), "the FIFO is left as it was");
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(fifo)));
    }

    private static void assertNothingWritten(Path target) {
        assertFalse(Files.exists(target), target + " must not exist");
        assertFalse(Files.exists(ImageStreamTarget.partialNameFor(target)), "no partial file for " + target);
    }

    private static byte[] head(Path device, int length) throws IOException {
        byte[] bytes = new byte[length];
        try (RandomAccessFile file = new RandomAccessFile(device.toFile(), "r")) {
            file.readFully(bytes);
        }
        return bytes;
    }
}
