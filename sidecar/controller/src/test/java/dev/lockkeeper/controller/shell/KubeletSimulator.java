package dev.lockkeeper.controller.shell;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Kubelet and a CSI driver for the fake cluster's nodes, with real storage (root only), so the agents' containment
 * checks run against what they would meet on a node:
 * <ul>
 *   <li>Every PV gets backing storage the first time it is seen: a sparse file of its capacity on a loop device, and for
 *   a filesystem PV an ext4 filesystem on it, mounted under {@code storage/} (the "storage system" a test reads and
 *   writes through {@link #filesystem} and {@link #device}). It lives as long as the PV, so the data survives the PV's
 *   rebind from the prime to the user's claim.</li>
 *   <li>Each node has a kubelet root. Before a pod scheduled there runs, its claims' volumes appear as kubelet lays
 *   them out: a filesystem volume bind-mounted at {@code pods/<uid>/volumes/kubernetes.io~csi/<pv>/mount} (read-only
 *   when the pod's claim is), a block volume as a device node under {@code plugins/kubernetes.io/csi/volumeDevices/<pv>/dev/<uid>}
 *   with the link {@code pods/<uid>/volumeDevices/kubernetes.io~csi/<pv>} to it.</li>
 *   <li>When the pod is gone its volumes are unmounted and removed; when the PV is gone its storage is released.</li>
 * </ul>
 */
final class KubeletSimulator implements Simulators.Kubelet, AutoCloseable {
    private static final Path CSI_DEVICES = Path.of("plugins", "kubernetes.io", "csi", "volumeDevices");

    /** A PV's storage: the backing file, its loop device, and where a filesystem PV's ext4 is mounted (else null). */
    private record Backing(Path file, Path loopDevice, Path filesystem) {}

    /** What was set up on a node for one pod, in the order to take it down. */
    private record PodVolumes(Set<String> pvs, List<Path> mounts, List<Path> files, Path podDir) {}

    private final KubernetesClient client;
    private final Path storageDir;
    private final Map<String, Path> roots = new LinkedHashMap<>();
    private final Map<String, Backing> storage = new LinkedHashMap<>();
    private final Map<String, PodVolumes> pods = new LinkedHashMap<>();

    KubeletSimulator(KubernetesClient client, Path dir, List<String> nodes) throws IOException {
        this.client = client;
        this.storageDir = Files.createDirectories(dir.resolve("storage"));
        for (String node : nodes) {
            Path root = dir.resolve(node).resolve("kubelet").toAbsolutePath().normalize();
            Files.createDirectories(root.resolve("pods"));
            Files.createDirectories(root.resolve(CSI_DEVICES));
            roots.put(node, root);
        }
    }

    /** The kubelet root of {@code node}: the agent's {@code --kubelet-root}. */
    Path root(String node) {
        return roots.get(node);
    }

    /** The ext4 filesystem of a filesystem PV as its storage keeps it (made on first use). */
    synchronized Path filesystem(String pvName) {
        Backing backing = backing(pv(pvName));
        if (backing.filesystem() == null) throw new IllegalArgumentException(pvName + " is a block volume");
        return backing.filesystem();
    }

    /** The block device of a block PV (made on first use). */
    synchronized Path device(String pvName) {
        Backing backing = backing(pv(pvName));
        if (backing.filesystem() != null) throw new IllegalArgumentException(pvName + " is a filesystem volume");
        return backing.loopDevice();
    }

    /** The file behind a PV's loop device, as the storage system allocates it (for {@code du}-style checks). */
    synchronized Path backingFile(String pvName) {
        return backing(pv(pvName)).file();
    }

    /** Whether a PV still has storage here: its loop device attached, a filesystem PV's ext4 mounted. */
    synchronized boolean hasStorage(String pvName) {
        return storage.containsKey(pvName);
    }

    /** The loop devices the kernel has attached to a PV's backing file, whatever this simulator remembers. */
    List<String> loopDevicesOf(String pvName) {
        return run(
                        "losetup",
                        "-n",
                        "-O",
                        "NAME",
                        "-j",
                        storageDir.resolve(pvName + ".img").toString())
                .lines()
                .map(String::trim)
                .filter(l -> !l.isEmpty())
                .toList();
    }

    /** Every mount the kernel has below a node's kubelet root (from /proc/self/mountinfo), as "mount POINT". */
    List<String> mountsUnderKubeletRoots() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(line -> line.split(" ")[4].replace("\\040", " "))
                    .filter(point -> roots.values().stream()
                            .anyMatch(root -> Path.of(point).startsWith(root)))
                    .map(point -> "mount " + point)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized boolean volumesReady(Pod pod) {
        String uid = pod.getMetadata().getUid();
        Path root = roots.get(pod.getSpec().getNodeName());
        if (root == null || pods.containsKey(uid)) return true;
        String namespace = pod.getMetadata().getNamespace();
        List<Mounting> wanted = new ArrayList<>();
        for (var volume : pod.getSpec().getVolumes()) {
            var source = volume.getPersistentVolumeClaim();
            if (source == null) continue;
            PersistentVolumeClaim claim = client.persistentVolumeClaims()
                    .inNamespace(namespace)
                    .withName(source.getClaimName())
                    .get();
            if (claim == null || claim.getSpec().getVolumeName() == null) return false;
            PersistentVolume pv = client.persistentVolumes()
                    .withName(claim.getSpec().getVolumeName())
                    .get();
            if (pv == null) return false;
            wanted.add(new Mounting(pv, Boolean.TRUE.equals(source.getReadOnly())));
        }
        Path podDir = root.resolve("pods").resolve(uid);
        PodVolumes made = new PodVolumes(new HashSet<>(), new ArrayList<>(), new ArrayList<>(), podDir);
        pods.put(uid, made); // recorded first, so a failure half-way is still taken down
        try {
            for (Mounting mounting : wanted) {
                String pvName = mounting.pv().getMetadata().getName();
                Backing backing = backing(mounting.pv());
                made.pvs().add(pvName);
                if (backing.filesystem() == null) {
                    Path deviceDir = Files.createDirectories(
                            root.resolve(CSI_DEVICES).resolve(pvName).resolve("dev"));
                    Path node = deviceDir.resolve(uid);
                    String[] majorMinor = run(
                                    "stat", "-c", "%t %T", backing.loopDevice().toString())
                            .trim()
                            .split(" ");
                    run(
                            "mknod",
                            node.toString(),
                            "b",
                            Integer.toString(Integer.parseInt(majorMinor[0], 16)),
                            Integer.toString(Integer.parseInt(majorMinor[1], 16)));
                    made.files().add(node);
                    Path link = podDir.resolve("volumeDevices")
                            .resolve("kubernetes.io~csi")
                            .resolve(pvName);
                    Files.createDirectories(link.getParent());
                    Files.createSymbolicLink(link, node);
                    made.files().add(link);
                } else {
                    Path point = Files.createDirectories(podDir.resolve("volumes")
                            .resolve("kubernetes.io~csi")
                            .resolve(pvName)
                            .resolve("mount"));
                    if (mounting.readOnly())
                        run("mount", "--bind", "-o", "ro", backing.filesystem().toString(), point.toString());
                    else run("mount", "--bind", backing.filesystem().toString(), point.toString());
                    made.mounts().add(point);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    private record Mounting(PersistentVolume pv, boolean readOnly) {}

    /** The pods whose volumes are still set up on a node. */
    synchronized List<String> podsWithVolumes() {
        return pods.entrySet().stream()
                .map(e -> "volumes of pod " + e.getKey() + " " + e.getValue().pvs())
                .toList();
    }

    @Override
    public synchronized void sync() {
        Set<String> livePods = client.pods().inAnyNamespace().list().getItems().stream()
                .map(p -> p.getMetadata().getUid())
                .collect(Collectors.toSet());
        for (String uid : List.copyOf(pods.keySet())) {
            if (!livePods.contains(uid)) tearDown(uid, false);
        }
        Set<String> livePvs = client.persistentVolumes().list().getItems().stream()
                .map(pv -> pv.getMetadata().getName())
                .collect(Collectors.toSet());
        for (String pvName : List.copyOf(storage.keySet())) {
            boolean inUse = pods.values().stream().anyMatch(p -> p.pvs().contains(pvName));
            if (!livePvs.contains(pvName) && !inUse) release(pvName);
        }
    }

    /** Unmounts and removes a pod's volumes; an unmount the kernel refuses (busy) is tried again on the next pass. */
    private boolean tearDown(String uid, boolean lazily) {
        PodVolumes made = pods.get(uid);
        for (Path point : List.copyOf(made.mounts())) {
            String[] command = lazily
                    ? new String[] {"umount", "-l", point.toString()}
                    : new String[] {"umount", point.toString()};
            if (exec(command).exitCode() != 0) return false;
            made.mounts().remove(point);
        }
        try {
            for (Path file : made.files()) Files.deleteIfExists(file);
            deleteTree(made.podDir());
            for (String pvName : made.pvs()) {
                for (Path root : roots.values()) {
                    Path devices = root.resolve(CSI_DEVICES).resolve(pvName);
                    if (Files.isDirectory(devices)) deleteTree(devices);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pods.remove(uid);
        return true;
    }

    private void release(String pvName) {
        Backing backing = storage.remove(pvName);
        if (backing.filesystem() != null) run("umount", backing.filesystem().toString());
        run("losetup", "-d", backing.loopDevice().toString());
        try {
            Files.deleteIfExists(backing.file());
            if (backing.filesystem() != null) Files.deleteIfExists(backing.filesystem());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PersistentVolume pv(String pvName) {
        PersistentVolume pv = client.persistentVolumes().withName(pvName).get();
        if (pv == null) throw new IllegalArgumentException("no PV " + pvName);
        return pv;
    }

    private Backing backing(PersistentVolume pv) {
        String pvName = pv.getMetadata().getName();
        Backing existing = storage.get(pvName);
        if (existing != null) return existing;
        long size =
                pv.getSpec().getCapacity().get("storage").getNumericalAmount().longValueExact();
        Path file = storageDir.resolve(pvName + ".img");
        try (RandomAccessFile backingFile = new RandomAccessFile(file.toFile(), "rw")) {
            backingFile.setLength(size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path loop = Path.of(run("losetup", "-f", "--show", file.toString()).trim());
        Path filesystem = null;
        if (!"Block".equals(pv.getSpec().getVolumeMode())) {
            try {
                run("mkfs.ext4", "-q", "-F", loop.toString());
                filesystem = Files.createDirectory(storageDir.resolve(pvName));
                run("mount", loop.toString(), filesystem.toString());
            } catch (IOException | RuntimeException e) {
                exec("losetup", "-d", loop.toString());
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
        }
        Backing backing = new Backing(file, loop, filesystem);
        storage.put(pvName, backing);
        return backing;
    }

    @Override
    public synchronized void close() {
        List<String> failures = new ArrayList<>();
        for (String uid : List.copyOf(pods.keySet())) {
            if (!tearDown(uid, true)) failures.add("pod " + uid);
        }
        for (String pvName : List.copyOf(storage.keySet())) {
            try {
                release(pvName);
            } catch (RuntimeException e) {
                failures.add(pvName + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) throw new IllegalStateException("left behind: " + failures);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(path);
        }
    }

    private record Result(int exitCode, String output) {}

    /** Runs a command that must succeed; returns its output. */
    static String run(String... command) {
        Result result = exec(command);
        if (result.exitCode() != 0)
            throw new IllegalStateException(
                    String.join(" ", command) + " exited " + result.exitCode() + ": " + result.output());
        return result.output();
    }

    private static Result exec(String... command) {
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
