package dev.lockkeeper.webhook.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.support.Tls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The intake limits as {@code serve} flags: bad values are usage errors (exit 2), good ones reach the server. */
class ServeFlagsTest {
    record Run(int exit, String err) {}

    static Run serve(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        List<String> full = new ArrayList<>(List.of("serve"));
        full.addAll(List.of(args));
        return new Run(commandLine.execute(full.toArray(String[]::new)), err.toString());
    }

    @Test
    void zeroOrNegativeIntakeLimitsAreRefusedNamingTheFlag() {
        assertEquals(new Run(2, "serve: --max-in-flight must be at least 1, got 0\n"), serve("--max-in-flight", "0"));
        assertEquals(new Run(2, "serve: --max-in-flight must be at least 1, got -3\n"), serve("--max-in-flight=-3"));
        assertEquals(
                new Run(2, "serve: --max-buffered-bytes must be positive, got 0\n"),
                serve("--max-buffered-bytes", "0"));
        assertEquals(
                new Run(2, "serve: --max-body-bytes must be at least 1Ki, got -1048576\n"),
                serve("--max-body-bytes=-1Mi"));
        assertEquals(new Run(2, "serve: --body-deadline must be positive\n"), serve("--body-deadline", "0s"));
        assertEquals(
                new Run(
                        2,
                        "serve: --max-buffered-bytes (1048576) must hold one largest body, --max-body-bytes (2097152)\n"),
                serve("--max-buffered-bytes", "1Mi", "--max-body-bytes", "2Mi"));
    }

    @Test
    void unreadableIntakeLimitsAreUsageErrors() {
        Run size = serve("--max-buffered-bytes", "16MB");
        assertEquals(2, size.exit());
        assertTrue(size.err().contains("'16MB' is not a size like 1048576, 512Ki or 16Mi"), size.err());
        Run deadline = serve("--body-deadline", "-1s");
        assertEquals(2, deadline.exit());
        assertTrue(deadline.err().contains("'-1s' is not a duration"), deadline.err());
    }

    @Test
    void theIntakeFlagsReachTheServer(@TempDir Path dir) throws Exception {
        Path cluster = Files.createDirectories(dir.resolve("cluster"));
        Files.copy(Path.of("examples/example-cluster.yaml"), cluster.resolve("example-cluster.yaml"));
        CommandLine commandLine = Main.commandLine();
        commandLine.parseArgs(
                "serve",
                "--bind=127.0.0.1",
                "--port=0",
                "--cluster=" + cluster,
                "--cert-dir=" + dir.resolve("certs"),
                "--max-body-bytes=2Ki",
                "--max-buffered-bytes=4Ki",
                "--max-in-flight=3",
                "--body-deadline=7s");
        ServeCommand serve = commandLine.getSubcommands().get("serve").getCommand();
        WebhookConfig config = serve.config();
        assertEquals(
                new dev.lockkeeper.webhook.http.IntakeLimits(2048, 3, 4096, Duration.ofSeconds(7)),
                config.intakeLimits());
        try (WebhookApp app = WebhookApp.start(config, new PrintWriter(new StringWriter()))) {
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(Tls.trusting(dir.resolve("certs/ca.crt")))
                    .build();
            HttpResponse<String> answer = http.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + app.port() + "/validate"))
                            .header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"pad\":\"" + "x".repeat(3000) + "\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(413, answer.statusCode(), answer.body());
            assertEquals(
                    "request body exceeds 2048 bytes",
                    Json.MAPPER.readTree(answer.body()).path("message").asText(),
                    answer.body());
        }
    }
}
