package dev.lockkeeper.webhook.http;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import dev.lockkeeper.webhook.support.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or broken client can send, over real HTTPS: each gets a clear status at once, and
 * the server answers a normal review afterwards. The intake limits are small here (2 reviews in
 * flight, 64 KiB bodies, 96 KiB buffered, a 1 s body deadline) so the bounds are reached with small inputs.
 */
class HostileInputTest {
    static final IntakeLimits SMALL = new IntakeLimits(64 * 1024, 2, 96 * 1024, Duration.ofSeconds(1));
    static final String RESTORE = """
            apiVersion: velero.io/v1
            kind: Restore
            metadata:
              name: plugin
              namespace: velero
              labels: {velero.kubevirt.io/generate-new-firmware-uuid: "true"}
            spec: {backupName: nightly}
            """;

    static final int PIPELINED = 50;
    static final int PIPELINED_REQUESTS = 1000;

    @TempDir
    Path certDir;

    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = new TestServer(certDir, TestCluster.with(RESTORE), settings -> settings.withLimits(SMALL));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static byte[] normalReview() {
        return Reviews.document(
                        Reviews.createDataVolume("team-a", "{metadata: {name: d, namespace: team-a}, spec: {}}"))
                .toString()
                .getBytes(StandardCharsets.UTF_8);
    }

    void assertHealthy() throws Exception {
        HttpResponse<String> answer = server.post("/validate", normalReview());
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(
                "uid-CREATE",
                Json.MAPPER.readTree(answer.body()).path("response").path("uid").asText());
    }

    static JsonNode status(HttpResponse<String> response) throws Exception {
        return Json.MAPPER.readTree(response.body());
    }

    @Test
    void duplicateKeysTrailingDataAndTwoReviewsInOneBodyAre400() throws Exception {
        String review = new String(normalReview(), StandardCharsets.UTF_8);
        String bobThenAlice =
                review.replaceFirst("\"username\":\"alice\"", "\"username\":\"bob\",\"username\":\"alice\"");
        assertNotEquals(review, bobThenAlice);
        for (String body : List.of(bobThenAlice, review + " garbage", review + review, review + "{}")) {
            HttpResponse<String> answer = server.post("/validate", body.getBytes(StandardCharsets.UTF_8));
            assertEquals(400, answer.statusCode(), body.substring(Math.max(0, body.length() - 40)));
            assertTrue(status(answer).path("message").asText().startsWith("malformed JSON"), answer.body());
        }
        assertTrue(status(server.post("/validate", bobThenAlice.getBytes(StandardCharsets.UTF_8)))
                .path("message")
                .asText()
                .contains("Duplicate field 'username'"));
        assertHealthy();
    }

    @Test
    void aFieldOfTheWrongTypeIsA422NamingItNotA500WithJavaClassNames() throws Exception {
        ObjectNode vm = TestCluster.yaml("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: web, namespace: team-a, labels: {velero.io/restore-name: plugin}}
                spec: {template: {spec: {domain: {firmware: "not an object", devices: {}}}}}
                """);
        var request = Reviews.virtualMachine(dev.lockkeeper.webhook.admission.Operation.CREATE, "team-a", vm, null);
        HttpResponse<String> answer =
                server.post("/mutate", Reviews.document(request).toString().getBytes(StandardCharsets.UTF_8));
        assertEquals(200, answer.statusCode());
        JsonNode response = status(answer).path("response");
        assertFalse(response.path("allowed").asBoolean());
        assertEquals(422, response.path("status").path("code").asInt(), answer.body());
        assertEquals(
                "field \"firmware\" has the wrong type for rule restore-vm-identity (it reads an object or a list there)",
                response.path("status").path("message").asText());
        assertFalse(answer.body().contains("com.fasterxml") || answer.body().contains("java."), answer.body());
        assertHealthy();
    }

    @Test
    void aBodyOverTheLimitIs413WhetherDeclaredOrStreamed() throws Exception {
        HttpResponse<String> declared = server.post("/validate", new byte[64 * 1024 + 1]);
        assertEquals(413, declared.statusCode());
        assertEquals(
                "request body exceeds 65536 bytes",
                status(declared).path("message").asText());
        try (SSLSocket socket = server.socket()) {
            OutputStream out = socket.getOutputStream();
            out.write("POST /validate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < PIPELINED; i++)
                out.write(("1000\r\n" + "x".repeat(4096) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(413, TestServer.readStatus(socket), "a chunked body is counted as it arrives");
        }
        assertHealthy();
    }

    @Test
    void aBodyTricklingInIsCutOffAtTheDeadlineWith408() throws Exception {
        try (SSLSocket socket = server.socket()) {
            TestServer.startPost(socket, "/validate", 1000, "{");
            long started = System.nanoTime();
            Thread trickle = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 50; i++) {
                        socket.getOutputStream().write(' ');
                        socket.getOutputStream().flush();
                        Thread.sleep(100);
                    }
                } catch (Exception cutOff) {
                    // expected: the server closes the connection after its answer
                }
            });
            assertEquals(408, TestServer.readStatus(socket));
            trickle.interrupt();
            assertTrue(System.nanoTime() - started < Duration.ofSeconds(3).toNanos(), "cut off near the 1 s deadline");
        }
        assertEquals(1.0, counter("lockkeeper_http_refused_total{reason=\"slow-body\"}"));
        assertHealthy();
    }

    @Test
    void reviewsBeyondTheInFlightLimitAre429AtOnceAndTheSlotsComeBack() throws Exception {
        List<SSLSocket> holding = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                SSLSocket socket = server.socket();
                holding.add(socket);
                TestServer.startPost(socket, "/validate", 1000, "{");
            }
            Thread.sleep(200); // both heads are read and hold their claims
            HttpResponse<String> busy = server.post("/validate", normalReview());
            assertEquals(429, busy.statusCode());
            assertEquals("1", busy.headers().firstValue("Retry-After").orElse(""));
            assertEquals("TooManyRequests", status(busy).path("reason").asText());
            for (SSLSocket socket : holding) assertEquals(408, TestServer.readStatus(socket), "held bodies time out");
        } finally {
            for (SSLSocket socket : holding) socket.close();
        }
        assertHealthy();
    }

    @Test
    void bodiesBeyondTheBufferedBytesBudgetAre429() throws Exception {
        List<SSLSocket> holding = new ArrayList<>();
        try {
            // Two declared 60 KiB bodies fit two slots but not 96 KiB of budget: the second is refused at its head.
            SSLSocket first = server.socket();
            holding.add(first);
            TestServer.startPost(first, "/validate", 60 * 1024, "{");
            Thread.sleep(200);
            SSLSocket second = server.socket();
            holding.add(second);
            TestServer.startPost(second, "/validate", 60 * 1024, "{");
            assertEquals(429, TestServer.readStatus(second));
        } finally {
            for (SSLSocket socket : holding) socket.close();
        }
        assertEquals(1.0, counter("lockkeeper_http_refused_total{reason=\"busy\"}"));
        assertHealthy();
    }

    /** The guard is the body reader's exception handler: without it each reset is an unhandled failure. */
    @Test
    void aClientResetMidBodyIsCountedNotAnUnhandledFailure() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (SSLSocket socket = server.socket()) {
                TestServer.startPost(socket, "/validate", 5000, "{\"apiV");
                socket.setSoLinger(true, 0);
            }
        }
        for (int i = 0; i < 50 && counter("lockkeeper_http_aborted_total") < 5; i++) Thread.sleep(20);
        assertEquals(5.0, counter("lockkeeper_http_aborted_total"));
        assertEquals(0.0, counter("lockkeeper_http_unhandled_failures_total"));
        assertHealthy();
        assertEquals(
                0.0,
                counter("lockkeeper_http_refused_total{reason=\"busy\"}"),
                "every aborted body gave its claim back");
    }

    /**
     * One TLS record per request, written as fast as the socket takes them while the answers are read: Netty's WebSocket extension
     * handler (present while WebSocket compression is on) failed such a connection past 128 queued
     * requests. Vert.x reads one request ahead and pauses the socket, so this is bounded by backpressure.
     */
    @Test
    void aThousandPipelinedRequestsOnOneConnectionAreAllAnswered() throws Exception {
        byte[] review = normalReview();
        byte[] request =
                ("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                                + review.length + "\r\n\r\n" + new String(review, StandardCharsets.UTF_8))
                        .getBytes(StandardCharsets.UTF_8);
        try (SSLSocket socket = server.socket()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int i = 0; i < PIPELINED_REQUESTS; i++) out.write(request);
                    out.flush();
                } catch (java.io.IOException e) {
                    // the reader below reports what the server did
                }
            });
            for (int i = 0; i < PIPELINED_REQUESTS; i++)
                assertEquals(200, TestServer.readStatus(socket), "response " + i);
            writer.join();
        }
        assertEquals(0.0, counter("lockkeeper_http_connection_failures_total"));
    }

    @Test
    void aThousandIdleConnectionsDoNotStopANormalReview() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            // Connected but silent (a TLS handshake never started), and a few with the handshake done.
            for (int i = 0; i < 1000; i++) idle.add(new Socket("127.0.0.1", server.port()));
            for (int i = 0; i < 20; i++) idle.add(server.socket());
            long started = System.nanoTime();
            assertHealthy();
            assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos());
        } finally {
            for (Socket socket : idle) socket.close();
        }
        assertHealthy();
    }

    double counter(String series) throws Exception {
        for (String line : server.get("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1));
        }
        return 0;
    }
}
