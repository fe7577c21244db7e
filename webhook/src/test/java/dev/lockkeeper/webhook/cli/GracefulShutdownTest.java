package dev.lockkeeper.webhook.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.support.Tls;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real {@code serve} JVM under load: reviews whose bodies are still arriving when the
 * signal comes are answered, and no caller sees a 500; the listener stops accepting first.
 */
class GracefulShutdownTest {
    static final Pattern LISTENING = Pattern.compile("listening on https://127\\.0\\.0\\.1:(\\d+)");
    static final int IN_FLIGHT = 5;

    @TempDir
    Path dir;

    Process server;

    @AfterEach
    void kill() {
        if (server != null) server.destroyForcibly();
    }

    @Test
    void sigtermAnswersInFlightReviewsAndNoCallerSeesA500() throws Exception {
        Path cluster = Files.createDirectory(dir.resolve("cluster"));
        try (InputStream example = getClass().getResourceAsStream(ClusterSource.EXAMPLE_RESOURCE)) {
            Files.copy(example, cluster.resolve("example-cluster.yaml"));
        }
        Path log = dir.resolve("server.log");
        server = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "serve",
                        "--cluster",
                        cluster.toString(),
                        "--cert-dir",
                        dir.resolve("certs").toString(),
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        "0",
                        "--shutdown-grace",
                        "20s")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        int port = awaitPort(log);
        SSLContext tls = Tls.trusting(dir.resolve("certs").resolve("ca.crt"));
        byte[] review = Files.readAllBytes(Path.of("examples/reviews/datavolume-clone-alice.json"));

        // Load on keep-alive connections until the server is gone.
        AtomicBoolean loading = new AtomicBoolean(true);
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger connectionErrors = new AtomicInteger();
        List<Thread> load = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            load.add(Thread.ofVirtual().start(() -> {
                HttpClient http = HttpClient.newBuilder()
                        .sslContext(tls)
                        .connectTimeout(Duration.ofSeconds(5))
                        .build();
                while (loading.get()) {
                    try {
                        int status = http.send(
                                        HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/mutate"))
                                                .timeout(Duration.ofSeconds(30))
                                                .POST(HttpRequest.BodyPublishers.ofByteArray(review))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode();
                        statuses.computeIfAbsent(status, s -> new AtomicInteger())
                                .incrementAndGet();
                    } catch (IOException e) {
                        connectionErrors
                                .incrementAndGet(); // refused or closed once the listener is down: never an answer
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        awaitTrue(
                () -> statuses.getOrDefault(200, new AtomicInteger()).get() >= 50,
                () -> "load is answered (statuses " + statuses + ", connection errors " + connectionErrors + ")");

        // Reviews in flight at the signal: head and half the body sent, the rest only after the listener closed.
        List<SSLSocket> inFlight = new ArrayList<>();
        for (int i = 0; i < IN_FLIGHT; i++) {
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            socket.getOutputStream()
                    .write(
                            ("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                                            + review.length + "\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(review, 0, review.length / 2);
            socket.getOutputStream().flush();
            inFlight.add(socket);
        }
        server.destroy(); // SIGTERM
        awaitTrue(() -> refusesConnections(port), "the listener stops accepting");
        for (SSLSocket socket : inFlight) {
            socket.getOutputStream().write(review, review.length / 2, review.length - review.length / 2);
            socket.getOutputStream().flush();
        }
        for (SSLSocket socket : inFlight) {
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 200 OK"), response);
            assertTrue(response.contains("\"uid\":\"0b3c7a52-9a52-4c3f-9d7e-5c1e1f9a0001\""), response);
            socket.close();
        }
        assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the server exits after the drain");
        loading.set(false);
        for (Thread thread : load) thread.join();

        String output = Files.readString(log);
        assertEquals(143, server.exitValue(), output); // 128 + SIGTERM, after the shutdown hook ran
        assertTrue(output.contains("stopping: draining in-flight reviews for at most 20000 ms"), output);
        assertTrue(output.contains("stopped"), output);
        assertEquals(
                Map.of(200, statuses.get(200).get()),
                Map.copyOf(statuses).entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(
                                Map.Entry::getKey, e -> e.getValue().get())),
                "every answer was a 200");
    }

    static boolean refusesConnections(int port) {
        try (Socket probe = new Socket("127.0.0.1", port)) {
            return false;
        } catch (ConnectException refused) {
            return true;
        } catch (IOException other) {
            return false;
        }
    }

    static int awaitPort(Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher listening = LISTENING.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (listening.find()) return Integer.parseInt(listening.group(1));
            Thread.sleep(50);
        }
        fail("server did not start: " + Files.readString(log));
        return -1;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void awaitTrue(Check check, String what) throws Exception {
        awaitTrue(check, () -> what);
    }

    static void awaitTrue(Check check, java.util.function.Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) fail(what.get() + ": not within 30 s");
            Thread.sleep(10);
        }
    }
}
