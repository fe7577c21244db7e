package dev.lockkeeper.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the packaged jars as child processes with the JVM running the tests (JDK 25). */
final class Jars {
    static final Path ROOT = Path.of(System.getProperty("lockkeeper.root", "../.."))
            .toAbsolutePath()
            .normalize();
    static final Path WEBHOOK = ROOT.resolve("webhook/target/lockkeeper-webhook.jar");
    static final Path EXAMPLES = ROOT.resolve("webhook/examples");
    /** The name kube-apiserver checks the serving certificate against (manifests/base/service.yaml). */
    static final String SERVICE_HOST = "lockkeeper-webhook.lockkeeper.svc";

    private Jars() {}

    /**
     * The jar on the test's JDK. The JIT stops at C1 and the collector is the serial one: each process lives for a few
     * requests, and C2's compiler threads and G1's setup would spend the CPU it needs to start (about half of it,
     * measured to "listening on" for {@code serve}) on a machine whose cores the other tests share. Neither changes
     * what the jar does; RealAgentsCopyTest starts its agent processes the same way.
     */
    static List<String> java(Path jar, String... args) {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-jar",
                jar.toString()));
        command.addAll(List.of(args));
        if (!Files.isRegularFile(jar))
            throw new IllegalStateException(jar + " is not built; run the tests through Maven");
        return command;
    }

    record Result(int exit, String stdout, String stderr) {}

    static Result run(Path workDir, Path jar, String... args) throws Exception {
        Process process =
                new ProcessBuilder(java(jar, args)).directory(workDir.toFile()).start();
        var stdout = process.getInputStream().readAllBytes();
        var stderr = process.getErrorStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", args));
        }
        return new Result(
                process.exitValue(),
                new String(stdout, StandardCharsets.UTF_8),
                new String(stderr, StandardCharsets.UTF_8));
    }

    /** {@code serve} on an embedded cluster directory, loopback, a free port, certificates generated under {@code work/certs}. */
    static Server serveEmbedded(Path work, Path cluster, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "serve",
                "--cluster",
                cluster.toString(),
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--cert-dir",
                work.resolve("certs").toString()));
        args.addAll(List.of(extra));
        return new Server(work, args.toArray(String[]::new));
    }

    /** A running {@code serve}: waits for its "listening on" line and stops it on close. */
    static final class Server implements AutoCloseable {
        private static final Pattern LISTENING = Pattern.compile("listening on https://[^:]+:(\\d+)");
        final Process process;
        final List<String> output = new CopyOnWriteArrayList<>();
        final int port;

        Server(Path workDir, String... args) throws Exception {
            this(workDir, java.util.Map.of(), args);
        }

        Server(Path workDir, java.util.Map<String, String> environment, String... args) throws Exception {
            ProcessBuilder builder = new ProcessBuilder(java(WEBHOOK, args))
                    .directory(workDir.toFile())
                    .redirectErrorStream(true);
            builder.environment().putAll(environment);
            process = builder.start();
            BufferedReader reader =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            int found = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (String line = reader.readLine();
                    line != null && System.nanoTime() < deadline;
                    line = reader.readLine()) {
                output.add(line);
                Matcher matcher = LISTENING.matcher(line);
                if (matcher.find()) {
                    found = Integer.parseInt(matcher.group(1));
                    break;
                }
            }
            if (found < 0) {
                process.destroyForcibly();
                throw new IllegalStateException("server did not start:\n" + String.join("\n", output));
            }
            port = found;
            Thread.ofVirtual().start(() -> {
                try {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) output.add(line);
                } catch (IOException ignored) {
                    // process ended
                }
            });
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS))
                    process.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
