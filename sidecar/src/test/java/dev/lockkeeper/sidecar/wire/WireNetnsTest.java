package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.TreeDigest;
import dev.lockkeeper.sidecar.testing.Allocation;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.LoopDevice;
import dev.lockkeeper.sidecar.testing.NetworkNamespaces;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source and the target side in two network namespaces joined by one veth pair (198.18.10.0/30, RFC 2544 test
 * addresses, only on the veths this test makes), each side in its own JVM: every combination of the engine, a link
 * cut for 10 s, and a bandwidth limit on the link. One namespace pair serves the whole class.
 */
class WireNetnsTest {
    private static final long MiB = 1 << 20;
    private static final long SIZE = 40 * MiB;
    private static final long DATA = (300 << 10) + 13 * MiB + 6 * MiB + 4096;
    private static final String SOURCE_NS = NetworkNamespaces.name("ha-src");
    private static final String TARGET_NS = NetworkNamespaces.name("ha-dst");
    private static final String SOURCE_LINK = "ha-vsrc";
    private static final String TARGET_LINK = "ha-vdst";
    private static final String SOURCE_ADDRESS = "198.18.10.1";
    private static final Pattern OUTCOME = Pattern.compile(
            "outcome resumedFrom=(\\d+) data=(\\d+) holes=(\\d+) wire=(\\d+) digest=(\\S+) seconds=(\\S+)");

    @TempDir
    Path dir;

    private NodeIdentities identities;
    private final List<Process> children = new ArrayList<>();
    private final List<LoopDevice> devices = new ArrayList<>();

    /** One namespace pair for the whole class: made once, removed once (also when a test fails). */
    @BeforeAll
    static void namespaces() {
        assumeTrue(Commands.isRoot(), "network namespaces need root");
        assumeTrue(Commands.available("ip"), "network namespaces need iproute2's ip");
        deleteNamespaces();
        Commands.ok("ip", "netns", "add", SOURCE_NS);
        Commands.ok("ip", "netns", "add", TARGET_NS);
        Commands.ok(
                "ip",
                "-n",
                SOURCE_NS,
                "link",
                "add",
                SOURCE_LINK,
                "type",
                "veth",
                "peer",
                "name",
                TARGET_LINK,
                "netns",
                TARGET_NS);
        Commands.ok("ip", "-n", SOURCE_NS, "addr", "add", SOURCE_ADDRESS + "/30", "dev", SOURCE_LINK);
        Commands.ok("ip", "-n", TARGET_NS, "addr", "add", "198.18.10.2/30", "dev", TARGET_LINK);
        Commands.ok("ip", "-n", SOURCE_NS, "link", "set", SOURCE_LINK, "up");
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "up");
    }

    @AfterAll
    static void removeNamespaces() {
        deleteNamespaces();
    }

    @BeforeEach
    void nodes() {
        identities = new NodeIdentities(dir.resolve("pki"));
    }

    @AfterEach
    void teardown() throws InterruptedException {
        for (Process child : children) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        devices.forEach(LoopDevice::close);
        // what a test changed on the shared link is put back for the next one
        Commands.run("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "up");
        Commands.run("ip", "netns", "exec", SOURCE_NS, "tc", "qdisc", "del", "dev", SOURCE_LINK, "root");
    }

    /** Deleting a namespace deletes the veth end inside it, and with it the pair. */
    private static void deleteNamespaces() {
        Commands.run("ip", "netns", "del", SOURCE_NS);
        Commands.run("ip", "netns", "del", TARGET_NS);
    }

    private Path source() throws IOException {
        return Images.sparse(
                dir.resolve("source.img"), SIZE, 0, 300 << 10, 3 * MiB, 13 * MiB, 25 * MiB, 6 * MiB, SIZE - 4096, 4096);
    }

    private int serve(Path source) throws Exception {
        return serve(source, "k", Content.KUBEVIRT);
    }

    private int serve(Path source, String task, Content content) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", SOURCE_NS));
        Path portFile = dir.resolve("port-" + task);
        command.addAll(WireChild.command(
                "serve",
                identities.node("src").toString(),
                SOURCE_ADDRESS,
                portFile.toString(),
                task,
                source.toString(),
                "dst",
                content.name()));
        children.add(new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.out").toFile())
                .start());
        for (int i = 0; i < 1500 && !Files.exists(portFile); i++) Thread.sleep(20);
        return Integer.parseInt(Files.readString(portFile).trim());
    }

    private Process pull(int port, Path target, long rate, String... stall) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", TARGET_NS));
        command.addAll(WireChild.command(
                "pull",
                identities.node("dst").toString(),
                SOURCE_ADDRESS,
                Integer.toString(port),
                "src",
                "k",
                target.toString(),
                dir.resolve("checkpoint").toString(),
                Long.toString(rate),
                Long.toString(4 * MiB)));
        List<String> withStall = new ArrayList<>(command);
        if (stall.length > 0) withStall.add(stall[0]);
        Process child = new ProcessBuilder(withStall)
                .redirectError(dir.resolve("pull.err").toFile())
                .start();
        children.add(child);
        return child;
    }

    private Process pull(int port, String task, Path target, Content content) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", TARGET_NS));
        command.addAll(WireChild.command(
                "pull",
                identities.node("dst").toString(),
                SOURCE_ADDRESS,
                Integer.toString(port),
                "src",
                task,
                target.toString(),
                dir.resolve("checkpoint-" + task).toString(),
                "0",
                Long.toString(4 * MiB),
                "30",
                "verify",
                content.name()));
        Process child = new ProcessBuilder(command)
                .redirectError(dir.resolve("pull.err").toFile())
                .start();
        children.add(child);
        return child;
    }

    private LoopDevice device(String name, long size) throws IOException {
        assumeTrue(Commands.available("losetup"), "loop devices need losetup");
        LoopDevice device = LoopDevice.create(dir.resolve(name), size);
        devices.add(device);
        return device;
    }

    /**
     * Every SRC→DST combination of the engine across the veth, small: file→device, device→file, device→device,
     * device→filesystem volume (its disk.img), filesystem volume (disk.img)→device, tree→tree.
     */
    @Test
    void everyCombinationOfTheEngineCrossesTheLink() throws Exception {
        long size = 8 * MiB;
        Path file = Images.sparse(dir.resolve("combo.img"), size, 0, 64 << 10, 3 * MiB, MiB, size - 4096, 4096);
        long fileData = (64 << 10) + MiB + 4096;

        LoopDevice fileOnDevice = device("file-on-device.backing", size).filledWithOldData();
        Matcher outcome =
                succeeded(pull(serve(file, "f2b", Content.KUBEVIRT), "f2b", fileOnDevice.path(), Content.KUBEVIRT));
        assertEquals(fileData, Long.parseLong(outcome.group(2)));
        assertTrue(Commands.sameBytes(file, fileOnDevice.path(), size), "file → device");

        Path deviceAsFile = dir.resolve("device-as-file.img");
        outcome = succeeded(
                pull(serve(fileOnDevice.path(), "b2f", Content.KUBEVIRT), "b2f", deviceAsFile, Content.KUBEVIRT));
        assertTrue(Commands.sameBytes(file, deviceAsFile, size), "device → file");
        Allocation.assertSame(file, deviceAsFile);

        LoopDevice deviceOnDevice = device("device-on-device.backing", size).filledWithOldData();
        succeeded(pull(
                serve(fileOnDevice.path(), "b2b", Content.KUBEVIRT), "b2b", deviceOnDevice.path(), Content.KUBEVIRT));
        assertTrue(Commands.sameBytes(file, deviceOnDevice.path(), size), "device → device");

        Path volume = Files.createDirectory(dir.resolve("volume"));
        succeeded(pull(serve(deviceOnDevice.path(), "b2v", Content.KUBEVIRT), "b2v", volume, Content.KUBEVIRT));
        assertTrue(Commands.sameBytes(file, volume.resolve("disk.img"), size), "device → filesystem volume's disk.img");

        LoopDevice volumeOnDevice = device("volume-on-device.backing", size).filledWithOldData();
        succeeded(pull(serve(volume, "v2b", Content.KUBEVIRT), "v2b", volumeOnDevice.path(), Content.KUBEVIRT));
        assertTrue(Commands.sameBytes(file, volumeOnDevice.path(), size), "filesystem volume's disk.img → device");

        Path tree = Trees.rich(Files.createDirectories(dir.resolve("tree")));
        Path treeCopy = dir.resolve("tree-copy");
        outcome = succeeded(pull(serve(tree, "t2t", Content.ARCHIVE), "t2t", treeCopy, Content.ARCHIVE));
        Map<String, String> expected = Trees.describe(tree);
        expected.remove("fifo");
        assertEquals(expected, Trees.describe(treeCopy), "tree → tree");
        assertEquals(TreeDigest.summarize(tree).content(), outcome.group(5));
    }

    private Matcher succeeded(Process child) throws Exception {
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), () -> out + read(dir.resolve("pull.err")) + read(dir.resolve("server.out")));
        Matcher outcome = OUTCOME.matcher(out);
        assertTrue(outcome.find(), out);
        return outcome;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void aCopyBetweenTwoNamespaces() throws Exception {
        Path source = source();
        Path target = dir.resolve("target.img");
        Matcher outcome = succeeded(pull(serve(source), target, 0));
        assertEquals(DATA, Long.parseLong(outcome.group(2)));
        assertTrue(Long.parseLong(outcome.group(4)) <= DATA * 1.02);
        assertTrue(Commands.sameBytes(source, target, SIZE));
        Allocation.assertSame(source, target);
    }

    @Test
    void aLinkDownForTenSecondsEndsTheAttemptAsAStallAndTheRetryResumes() throws Exception {
        Path source = source();
        Path target = dir.resolve("target.img");
        int port = serve(source);
        Process first = pull(port, target, 8 * MiB, "5");
        BufferedReader lines =
                new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.startsWith("progress ") && Long.parseLong(line.substring(9)) >= 8 * MiB) break;
        }
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "down");
        long down = System.nanoTime();
        assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, first.exitValue(), "a stalled link is a retryable failure");
        assertTrue(read(dir.resolve("pull.err")).contains("no progress for 5 s"), read(dir.resolve("pull.err")));
        Thread.sleep(Math.max(0, 10_000 - (System.nanoTime() - down) / 1_000_000));
        Commands.ok("ip", "-n", TARGET_NS, "link", "set", TARGET_LINK, "up");
        Checkpoint checkpoint =
                new FileCheckpoints(dir.resolve("checkpoint")).load().orElseThrow();
        assertTrue(checkpoint.offset() >= 4 * MiB);

        Matcher outcome = succeeded(pull(port, target, 0));
        assertEquals(checkpoint.offset(), Long.parseLong(outcome.group(1)));
        assertTrue(Long.parseLong(outcome.group(2)) < DATA);
        assertTrue(Commands.sameBytes(source, target, SIZE));
        assertEquals(0, Commands.qemuCompare(source, target).exitCode());
    }

    @Test
    void aBandwidthLimitOnTheLinkIsHonoured() throws Exception {
        assumeTrue(Commands.available("tc"), "the bandwidth limit needs iproute2's tc");
        Commands.Result tbf = Commands.run(
                "ip",
                "netns",
                "exec",
                SOURCE_NS,
                "tc",
                "qdisc",
                "add",
                "dev",
                SOURCE_LINK,
                "root",
                "tbf",
                "rate",
                "64mbit",
                "burst",
                "64kb",
                "latency",
                "200ms");
        assumeTrue(tbf.exitCode() == 0, "this kernel has no tbf qdisc: " + tbf.stderr());
        Path source = source();
        Path target = dir.resolve("target.img");
        int port = serve(source);
        Matcher outcome = succeeded(pull(port, target, 0));
        double seconds = Double.parseDouble(outcome.group(6));
        long wire = Long.parseLong(outcome.group(4));
        // a lower bound only: at 64 Mbit/s the data cannot have crossed faster than the limit lets it
        assertTrue(seconds >= wire * 8 / 64e6 * 0.9, wire + " bytes in " + seconds + " s");
        assertTrue(Commands.sameBytes(source, target, SIZE));
    }
}
