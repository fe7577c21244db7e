package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.agent.VolumeLocator.Located;
import dev.lockkeeper.sidecar.agent.VolumeLocator.Role;
import dev.lockkeeper.sidecar.agent.VolumeRef.HostPath;
import dev.lockkeeper.sidecar.agent.VolumeRef.KubeletVolume;
import dev.lockkeeper.sidecar.agent.VolumeRef.VolumeMode;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.Mount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containment against a real kubelet layout: real mounts for filesystem volumes, a real loop device published
 * through a device node under plugins/ for block volumes, and the hostile variants a task could point at.
 */
class VolumeLocatorTest {
    private static final String POD = "0b9a4c1e-5f7d-4c1a-9e7b-2d3c4b5a6f70";
    private static final String PV = "pvc-1234";

    @TempDir
    Path dir;

    private Path kubelet;
    private VolumeLocator locator;

    @BeforeEach
    void layOut() throws Exception {
        kubelet = Files.createDirectories(dir.resolve("kubelet"));
        Files.createDirectories(kubelet.resolve("pods"));
        locator = new VolumeLocator(kubelet, List.of(Files.createDirectories(dir.resolve("allowed"))));
    }

    private static KubeletVolume filesystem() {
        return new KubeletVolume(POD, PV, "kubernetes.io~csi", VolumeMode.FILESYSTEM);
    }

    private static KubeletVolume block() {
        return new KubeletVolume(POD, PV, "kubernetes.io~csi", VolumeMode.BLOCK);
    }

    private Path volumeDirectory() throws Exception {
        return Files.createDirectories(kubelet.resolve("pods/" + POD + "/volumes/kubernetes.io~csi/" + PV));
    }

    private String refusal(VolumeRef volume, Role role) {
        return assertThrows(
                        TaskRejected.class, () -> locator.locate(volume, role).close())
                .getMessage();
    }

    @Test
    void aMountedFilesystemVolumeIsFound() throws Exception {
        assumeTrue(Commands.isRoot(), "mounting needs root");
        try (Mount mount = Mount.of("tmpfs", volumeDirectory().resolve("mount"));
                Located located = locator.locate(filesystem(), Role.TARGET)) {
            assertEquals(mount.point().toRealPath(), located.path());
            assertEquals(FileType.DIRECTORY, located.type());
        }
    }

    @Test
    void anUnmountedLeftoverDirectoryIsNeverUsed() throws Exception {
        Files.createDirectory(volumeDirectory().resolve("mount"));
        assertTrue(refusal(filesystem(), Role.SOURCE)
                .endsWith("is not a mount point: the volume is not mounted on this node "
                        + "(a leftover directory is never read)"));
        assertTrue(refusal(filesystem(), Role.TARGET).endsWith("(a leftover directory is never written)"));
    }

    @Test
    void aSymlinkedPodDirectoryIsRefused() throws Exception {
        assumeTrue(Commands.isRoot(), "mounting needs root");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere/volumes/kubernetes.io~csi/" + PV));
        try (Mount ignored = Mount.of("tmpfs", elsewhere.resolve("mount"))) {
            Files.createSymbolicLink(kubelet.resolve("pods/" + POD), dir.resolve("elsewhere"));
            assertEquals(
                    "target " + kubelet.resolve("pods/" + POD + "/volumes/kubernetes.io~csi/" + PV + "/mount")
                            + " passes through a symbolic link; volumes are looked up without following links",
                    refusal(filesystem(), Role.TARGET));
        }
    }

    @Test
    void aSymlinkedMountDirectoryIsRefused() throws Exception {
        assumeTrue(Commands.isRoot(), "mounting needs root");
        try (Mount mount = Mount.of("tmpfs", dir.resolve("real-mount"))) {
            Files.createSymbolicLink(volumeDirectory().resolve("mount"), mount.point());
            assertTrue(refusal(filesystem(), Role.SOURCE)
                    .endsWith("passes through a symbolic link; volumes are looked up without following links"));
        }
    }

    @Test
    void aVolumeThatIsNotThereSaysSo() {
        assertEquals(
                "source " + kubelet.resolve("pods/" + POD + "/volumes/kubernetes.io~csi/" + PV + "/mount")
                        + " does not exist on this node",
                refusal(filesystem(), Role.SOURCE));
    }

    /** Publishes {@code device} the way kubelet does for a CSI block volume: a node under plugins/, linked from the pod. */
    private Path publish(Path device) throws Exception {
        Path publish = Files.createDirectories(
                kubelet.resolve(VolumeLocator.CSI_DEVICES).resolve("publish").resolve(PV));
        Path node = publish.resolve(POD);
        String[] majorMinor = Commands.ok("stat", "-L", "-c", "%t %T", device.toString())
                .trim()
                .split(" ");
        Commands.ok(
                "mknod",
                node.toString(),
                "b",
                Integer.toString(Integer.parseInt(majorMinor[0], 16)),
                Integer.toString(Integer.parseInt(majorMinor[1], 16)));
        return node;
    }

    private Path podDeviceLink() throws Exception {
        return Files.createDirectories(kubelet.resolve("pods/" + POD + "/volumeDevices/kubernetes.io~csi"))
                .resolve(PV);
    }

    @Test
    void aPublishedBlockVolumeIsFound() throws Exception {
        assumeTrue(Commands.isRoot(), "loop devices need root");
        try (LoopDevice loop = LoopDevice.create(dir.resolve("backing.img"), 8 << 20)) {
            Path node = publish(loop.path());
            Files.createSymbolicLink(podDeviceLink(), node);
            try (Located located = locator.locate(block(), Role.TARGET)) {
                assertEquals(node, located.path());
                assertEquals(FileType.BLOCK_DEVICE, located.type());
            }
        }
    }

    @Test
    void aBlockLinkLeadingOutsideKubeletsDeviceDirectoryIsRefused() throws Exception {
        assumeTrue(Commands.isRoot(), "loop devices need root");
        try (LoopDevice loop = LoopDevice.create(dir.resolve("backing.img"), 8 << 20)) {
            Files.createSymbolicLink(podDeviceLink(), loop.path());
            assertEquals(
                    "source " + podDeviceLink() + " leads to " + loop.path() + ", outside "
                            + kubelet.resolve(VolumeLocator.CSI_DEVICES),
                    refusal(block(), Role.SOURCE));
        }
    }

    @Test
    void aBlockLinkEscapingWithDotDotIsRefused() throws Exception {
        Files.createSymbolicLink(
                podDeviceLink(), kubelet.resolve(VolumeLocator.CSI_DEVICES).resolve("../../../../pods"));
        assertTrue(refusal(block(), Role.TARGET).contains(", outside " + kubelet.resolve(VolumeLocator.CSI_DEVICES)));
    }

    @Test
    void aBlockLinkToARegularFileIsRefused() throws Exception {
        Path publish = Files.createDirectories(
                kubelet.resolve(VolumeLocator.CSI_DEVICES).resolve("publish").resolve(PV));
        Path file = Files.writeString(publish.resolve(POD), "not a device");
        Files.createSymbolicLink(podDeviceLink(), file);
        assertEquals("target " + file + " is a regular, not a block device", refusal(block(), Role.TARGET));
    }

    @Test
    void aBlockEntryThatIsNotALinkIsRefused() throws Exception {
        Files.createDirectory(podDeviceLink());
        assertTrue(refusal(block(), Role.TARGET)
                .endsWith("is a directory; kubelet publishes a block volume as a link into "
                        + kubelet.resolve(VolumeLocator.CSI_DEVICES)));
    }

    @Test
    void plainPathsStayUnderTheAllowedRoots() throws Exception {
        Path allowed = dir.resolve("allowed");
        Path image = Files.writeString(allowed.resolve("disk.img"), "data");
        try (Located located = locator.locate(new HostPath(image), Role.SOURCE)) {
            assertEquals(FileType.REGULAR, located.type());
        }
        try (Located located = locator.locate(new HostPath(allowed.resolve("new.img")), Role.TARGET)) {
            assertEquals(allowed.toRealPath().resolve("new.img"), located.path(), "a target file the copy will create");
        }
        assertEquals(
                "source " + dir.resolve("outside.img") + " is outside the agent's allowed roots [" + allowed + "]",
                refusal(new HostPath(dir.resolve("outside.img")), Role.SOURCE));
        Files.createSymbolicLink(allowed.resolve("link"), dir);
        assertTrue(refusal(new HostPath(allowed.resolve("link/kubelet")), Role.SOURCE)
                .endsWith("passes through a symbolic link; " + "volumes are looked up without following links"));
        assertTrue(refusal(new HostPath(allowed.resolve("link/new.img")), Role.TARGET)
                .endsWith("passes through a symbolic link; " + "volumes are looked up without following links"));
    }

    @Test
    void aFifoIsNoVolume() throws Exception {
        Path fifo = dir.resolve("allowed/fifo");
        Commands.ok("mkfifo", fifo.toString());
        assertEquals(
                "source " + fifo + " is a fifo; expected a directory, a regular file or a block device",
                refusal(new HostPath(fifo), Role.SOURCE));
    }
}
