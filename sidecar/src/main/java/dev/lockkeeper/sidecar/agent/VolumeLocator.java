package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.agent.VolumeRef.HostPath;
import dev.lockkeeper.sidecar.agent.VolumeRef.KubeletVolume;
import dev.lockkeeper.sidecar.agent.VolumeRef.VolumeMode;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns a task's {@link VolumeRef} into a path the copy engine may use, refusing anything that is not the volume
 * kubelet attached: every name is checked when the task is read ({@link TaskParser}); here each lookup is an
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from a descriptor on the kubelet root, so no symlink and no
 * {@code ..} can lead elsewhere; a filesystem volume must be a mount root (an unmounted leftover directory on the
 * node's own disk is never read as an empty source or filled as a target); a block volume's link must lead into
 * kubelet's CSI device directory and name a block device. The located volume stays open while it is copied, so it
 * cannot be unmounted underneath the copy.
 */
public final class VolumeLocator {
    static final Path CSI_DEVICES = Path.of("plugins", "kubernetes.io", "csi", "volumeDevices");

    private final Path kubeletRoot;
    private final List<Path> allowedRoots;

    public VolumeLocator(Path kubeletRoot, List<Path> allowedRoots) {
        this.kubeletRoot = kubeletRoot.toAbsolutePath().normalize();
        this.allowedRoots = allowedRoots.stream()
                .map(root -> root.toAbsolutePath().normalize())
                .toList();
    }

    /** A volume found and held open; {@code path} is what the engine is given. */
    public record Located(Path path, FileType type, NativeFile held) implements AutoCloseable {
        @Override
        public void close() {
            try {
                held.close();
            } catch (ErrnoException e) {
                // the descriptor is gone either way
            }
        }
    }

    public enum Role {
        SOURCE,
        TARGET
    }

    public Located locate(VolumeRef volume, Role role) throws TaskRejected {
        try {
            return switch (volume) {
                case KubeletVolume v when v.mode() == VolumeMode.BLOCK -> blockDevice(v, role);
                case KubeletVolume v -> filesystem(v, role);
                case HostPath p -> hostPath(p.path(), role);
            };
        } catch (IOException e) {
            throw new TaskRejected(describe(role) + " cannot be looked up: " + e.getMessage());
        }
    }

    private Located filesystem(KubeletVolume volume, Role role) throws TaskRejected, IOException {
        String relative = volume.podUid() + "/volumes/" + volume.plugin() + "/" + volume.pvName()
                + (volume.plugin().equals("kubernetes.io~csi") ? "/mount" : "");
        NativeFile directory = beneath(kubeletRoot.resolve("pods"), relative, role, Mode.PATH, Mode.DIRECTORY);
        try {
            Path resolved = directory.resolvedPath();
            if (!MountPoints.isMountPoint(resolved)) {
                throw new TaskRejected(
                        describe(role) + " " + kubeletRoot.resolve("pods").resolve(relative)
                                + " is not a mount point: the volume is not mounted on this node (a leftover directory is never "
                                + (role == Role.SOURCE ? "read" : "written") + ")");
            }
            return new Located(resolved, FileType.DIRECTORY, directory);
        } catch (TaskRejected | IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    private Located blockDevice(KubeletVolume volume, Role role) throws TaskRejected, IOException {
        String relative = volume.podUid() + "/volumeDevices/" + volume.plugin();
        Path entry;
        try (NativeFile directory = beneath(kubeletRoot.resolve("pods"), relative, role, Mode.PATH, Mode.DIRECTORY)) {
            entry = directory.resolvedPath().resolve(volume.pvName());
        }
        FileStat link;
        try {
            link = NativeFile.statNoFollow(entry);
        } catch (ErrnoException e) {
            throw new TaskRejected(
                    describe(role) + " " + entry + " does not exist: the block volume is not attached to this node");
        }
        if (link.type() != FileType.SYMLINK) {
            throw new TaskRejected(describe(role) + " " + entry + " is a " + typeName(link.type())
                    + "; kubelet publishes a block volume as a link into " + kubeletRoot.resolve(CSI_DEVICES));
        }
        Path devices = kubeletRoot.resolve(CSI_DEVICES);
        Path destination =
                entry.getParent().resolve(Files.readSymbolicLink(entry)).normalize();
        if (!destination.startsWith(devices) || destination.equals(devices)) {
            throw new TaskRejected(describe(role) + " " + entry + " leads to " + destination + ", outside " + devices);
        }
        NativeFile device =
                beneath(devices, devices.relativize(destination).toString(), role, Mode.PATH, Mode.NO_FOLLOW);
        try {
            FileType type = device.stat().type();
            if (type != FileType.BLOCK_DEVICE) {
                throw new TaskRejected(
                        describe(role) + " " + destination + " is a " + typeName(type) + ", not a block device");
            }
            return new Located(destination, type, device);
        } catch (TaskRejected | IOException | RuntimeException e) {
            device.close();
            throw e;
        }
    }

    private Located hostPath(Path path, Role role) throws TaskRejected, IOException {
        Path root = allowedRoots.stream()
                .filter(path::startsWith)
                .findFirst()
                .orElseThrow(() -> new TaskRejected(describe(role) + " " + path
                        + " is outside the agent's allowed roots"
                        + (allowedRoots.isEmpty() ? " (none configured: --allowed-root)" : " " + allowedRoots)));
        Path relative = root.relativize(path);
        if (role == Role.TARGET && !relative.toString().isEmpty() && !exists(path)) {
            // a file the copy will create: its parent is contained and held open meanwhile
            Path parent = relative.getParent();
            NativeFile directory =
                    beneath(root, parent == null ? "." : parent.toString(), role, Mode.PATH, Mode.DIRECTORY);
            return new Located(directory.resolvedPath().resolve(path.getFileName()), FileType.REGULAR, directory);
        }
        NativeFile file = beneath(
                root, relative.toString().isEmpty() ? "." : relative.toString(), role, Mode.PATH, Mode.NO_FOLLOW);
        try {
            FileType type = file.stat().type();
            if (type != FileType.DIRECTORY && type != FileType.REGULAR && type != FileType.BLOCK_DEVICE) {
                throw new TaskRejected(describe(role) + " " + path + " is a " + typeName(type)
                        + "; expected a directory, a regular file or a block device");
            }
            return new Located(file.resolvedPath(), type, file);
        } catch (TaskRejected | IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static boolean exists(Path path) {
        try {
            NativeFile.statNoFollow(path);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** Opens {@code relative} under {@code root} without leaving it or passing a symlink; failures say which. */
    private static NativeFile beneath(Path root, String relative, Role role, Mode... modes)
            throws TaskRejected, IOException {
        try (NativeFile anchor = openRoot(root, role)) {
            return NativeFile.openBeneath(anchor, Path.of(relative), modes);
        } catch (ErrnoException e) {
            Path full = root.resolve(relative);
            throw new TaskRejected(describe(role) + " " + full
                    + switch (e.errno()) {
                        case ELOOP -> " passes through a symbolic link; volumes are looked up without following links";
                        case EXDEV -> " leads outside " + root;
                        case ENOENT -> " does not exist on this node";
                        case ENOTDIR -> " is not a directory";
                        case EACCES, EPERM -> ": permission denied";
                        default -> ": " + e.getMessage();
                    });
        }
    }

    private static NativeFile openRoot(Path root, Role role) throws TaskRejected {
        try {
            return NativeFile.open(root, Mode.PATH, Mode.DIRECTORY);
        } catch (ErrnoException e) {
            throw new TaskRejected(describe(role) + ": the agent cannot open " + root + ": " + e.getMessage());
        }
    }

    private static String describe(Role role) {
        return role == Role.SOURCE ? "source" : "target";
    }

    private static String typeName(FileType type) {
        return type.name().toLowerCase().replace('_', ' ');
    }
}
