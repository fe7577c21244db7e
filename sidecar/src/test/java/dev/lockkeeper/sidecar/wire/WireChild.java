package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One side of the data plane in its own JVM, so tests (and bench/transfer.sh) can kill -9 it like an agent:
 * <pre>
 * serve NODE_DIR BIND_HOST PORT_FILE TASK SOURCE TARGET_NODE [kubevirt|archive]     serves one task until killed
 * pull NODE_DIR HOST PORT SOURCE_NODE TASK TARGET CHECKPOINT_FILE RATE CHECKPOINT_BYTES [STALL_SECONDS [verify|no-verify [kubevirt|archive]]]
 * </pre>
 * {@code pull} prints {@code progress DONE} lines, then {@code outcome resumedFrom=… data=… holes=… wire=… digest=… seconds=…},
 * and exits 0, or 3 (retryable failure) / 4 (final failure) with the message on stderr. RATE 0 is unlimited.
 */
public final class WireChild {
    private WireChild() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve" -> serve(args);
            case "pull" -> System.exit(pull(args));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void serve(String[] args) throws Exception {
        NodeTls tls = NodeTls.load(Path.of(args[1]));
        String task = args[4];
        ServedSource source = new ServedSource(task, Path.of(args[5]), content(args, 7));
        String targetNode = args[6];
        DataServer server = DataServer.start(
                new InetSocketAddress(InetAddress.getByName(args[2]), 0),
                tls,
                (taskId, caller) -> {
                    if (!taskId.equals(task) || !caller.equals(targetNode))
                        throw new TransferException("not your task", false);
                    return source;
                },
                RateLimiter.UNLIMITED);
        Path portFile = Path.of(args[3]);
        Files.writeString(portFile.resolveSibling(portFile.getFileName() + ".tmp"), Integer.toString(server.port()));
        Files.move(portFile.resolveSibling(portFile.getFileName() + ".tmp"), portFile);
        Thread.sleep(Long.MAX_VALUE);
    }

    private static int pull(String[] args) throws Exception {
        NodeTls tls = NodeTls.load(Path.of(args[1]));
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(args[2]), Integer.parseInt(args[3]));
        long rate = Long.parseLong(args[8]);
        RateLimiter limiter = rate == 0 ? RateLimiter.UNLIMITED : new SteadyRate(rate);
        PullRequest request = new PullRequest(
                args[5],
                1,
                args[4],
                address,
                Path.of(args[6]),
                content(args, 12),
                false,
                false,
                0.06,
                args.length <= 11 || args[11].equals("verify"),
                limiter);
        TlsPuller puller = new TlsPuller(
                tls,
                TlsPuller.Options.DEFAULT
                        .withCheckpointBytes(Long.parseLong(args[9]))
                        .withStall(Duration.ofSeconds(args.length > 10 ? Long.parseLong(args[10]) : 30)));
        long start = System.nanoTime();
        try {
            TransferOutcome outcome = puller.pull(
                    request,
                    new FileCheckpoints(Path.of(args[7])),
                    new TransferProgress() {
                        private long reported;

                        @Override
                        public void update(long done, long total, long dataBytes, long holeBytes) {
                            if (done - reported >= (1 << 20) || done == total) {
                                reported = done;
                                System.out.println("progress " + done);
                                System.out.flush();
                            }
                        }

                        @Override
                        public void verifying() {}
                    },
                    () -> false);
            System.out.println("outcome resumedFrom=" + outcome.resumedFrom() + " data=" + outcome.dataBytes()
                    + " holes=" + outcome.holeBytes() + " wire=" + outcome.wireBytes() + " digest="
                    + outcome.digest().orElse("") + " seconds=" + (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (TransferException e) {
            System.err.println(e.getMessage());
            return e.retryable() ? 3 : 4;
        }
    }

    private static Content content(String[] args, int at) {
        return args.length > at ? Content.valueOf(args[at].toUpperCase(java.util.Locale.ROOT)) : Content.KUBEVIRT;
    }

    /**
     * Starts {@code serve} for task {@code task} ({@code source}, pulled by node "dst") as node "src" of
     * {@code nodes}, its output in {@code log}; {@link #port} reads the port it listens on.
     */
    static Process serve(WireNodes nodes, String task, Path source, Content content, Path portFile, Path log)
            throws IOException {
        return new ProcessBuilder(command(
                        "serve",
                        nodes.identities.node("src").toString(),
                        "127.0.0.1",
                        portFile.toString(),
                        task,
                        source.toString(),
                        "dst",
                        content.name()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** The port a {@link #serve} child wrote, once it is listening (up to 30 s). */
    static int port(Path portFile) throws IOException, InterruptedException {
        for (int i = 0; i < 1500 && !Files.exists(portFile); i++) Thread.sleep(20);
        return Integer.parseInt(Files.readString(portFile).trim());
    }

    /** The command line that runs this main in a fresh JVM with the test classpath. */
    static List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(
                "-Xmx64m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                WireChild.class.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
