package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.live.CachingAccessReviewer;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A SubjectAccessReview still unanswered at the review's deadline is aborted then: the API server (a socket that reads
 * the request and holds its answer) sees the connection closed, although {@code --sar-timeout} is ten minutes and the
 * fabric8 client would retry. Each review asks on its own, so one review's deadline does not cut another's call for
 * the same question.
 */
@Timeout(90)
class SarCancellationTest {
    static final Duration TEN_MINUTE_SAR_TIMEOUT = Duration.ofMinutes(10);
    /** The API server's webhook timeout: a 500 ms budget (Policy.DEFAULT never leaves less than half). */
    static final Duration ONE_SECOND_TIMEOUT = Duration.ofSeconds(1);
    /** Far longer than anything here takes, far shorter than the SAR timeout. */
    static final Duration CLOSE_SEEN_WITHIN = Duration.ofSeconds(30);

    static final Match DATAVOLUMES = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);
    static final AccessReview SOURCE_READ = new AccessReview(
            "alice",
            List.of(),
            Map.of(),
            "golden-images",
            "create",
            "cdi.kubevirt.io",
            "datavolumes",
            "source",
            "fedora");

    /** Allows only what the API server allows. */
    record SourceAuthorization(FailurePolicy failurePolicy) implements AdmissionRule {
        @Override
        public String name() {
            return "source-authorization";
        }

        @Override
        public Match match() {
            return DATAVOLUMES;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            return switch (review.cluster().review(SOURCE_READ)) {
                case AccessDecision.Allowed allowed -> Verdict.allow();
                case AccessDecision.Denied denied -> Verdict.forbidden("denied: " + denied.reason());
                case AccessDecision.Unavailable unavailable -> Verdict.forbidden("unavailable: " + unavailable.error());
            };
        }
    }

    HeldApiServer apiServer;
    KubernetesClient client;
    CachingAccessReviewer reviewer;

    @BeforeEach
    void start() throws IOException {
        apiServer = new HeldApiServer();
        // fabric8's defaults otherwise: ten retries with backoff after a failed call
        client = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder()
                        .withMasterUrl("http://127.0.0.1:" + apiServer.port())
                        .build())
                .build();
        reviewer =
                new CachingAccessReviewer(client, new SarSettings(Duration.ofSeconds(10), 100, TEN_MINUTE_SAR_TIMEOUT));
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        apiServer.close();
    }

    Decision decide(FailurePolicy failurePolicy, Duration apiServerTimeout) {
        return new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING,
                        List.of(new SourceAuthorization(failurePolicy)),
                        new TestCluster.ReviewingWithin(TestCluster.with(), reviewer::review),
                        RuleObserver.NONE,
                        () -> Policy.DEFAULT)
                .decide(Reviews.createDataVolume("team-a", "{metadata: {name: disk}, spec: {}}"), apiServerTimeout);
    }

    @Test
    void aSubjectAccessReviewOfARuleThatFailsClosedIsAbortedAtTheDeadline() throws Exception {
        Decision decision = decide(FailurePolicy.FAIL, ONE_SECOND_TIMEOUT);
        assertEquals(504, decision.code());
        assertEquals(
                "rule source-authorization did not finish within the review's deadline of 500 ms; denied, as its webhook"
                        + " fails closed (failurePolicy Fail)",
                decision.message());
        HeldCall call = apiServer.nextCall();
        assertTrue(
                call.request().startsWith("POST /apis/authorization.k8s.io/v1/subjectaccessreviews "), call.request());
        assertTrue(call.request().contains("\"user\":\"alice\""), call.request());
        assertClosedByTheClient(call);
    }

    @Test
    void aSubjectAccessReviewOfARuleThatFailsOpenIsAbortedAtTheDeadline() throws Exception {
        Decision decision = decide(FailurePolicy.IGNORE, ONE_SECOND_TIMEOUT);
        assertTrue(decision.allowed());
        assertEquals(
                List.of(
                        "rule source-authorization did not finish within the review's deadline of 500 ms; allowed without"
                                + " it, as its webhook fails open (failurePolicy Ignore)"),
                decision.warnings());
        assertClosedByTheClient(apiServer.nextCall());
    }

    @Test
    void oneReviewsDeadlineDoesNotCutAnotherReviewsCallForTheSameQuestion() throws Exception {
        CompletableFuture<Decision> patient = onItsOwnThread(() -> decide(FailurePolicy.FAIL, Duration.ofSeconds(60)));
        HeldCall patientCall = apiServer.nextCall();
        Decision hurried = decide(FailurePolicy.FAIL, ONE_SECOND_TIMEOUT);
        assertEquals(504, hurried.code());
        HeldCall hurriedCall = apiServer.nextCall();
        assertClosedByTheClient(hurriedCall);
        assertFalse(patientCall.closed().isDone(), "the patient review's call is still open");
        assertFalse(patient.isDone());
        patientCall.answer("""
                {"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","status":{"allowed":true}}""");
        Decision allowed = patient.get(CLOSE_SEEN_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertTrue(allowed.allowed(), allowed.message());
        assertEquals(2, apiServer.calls(), "one call per review, no retry");
    }

    @Test
    void aFailedSubjectAccessReviewIsNotRetriedPastItsCaller() throws Exception {
        CompletableFuture<AccessDecision> decision =
                onItsOwnThread(() -> reviewer.review(SOURCE_READ, Duration.ofSeconds(20)));
        apiServer.nextCall().answer(503, """
                        {"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd down","code":503}""");
        var unavailable = assertInstanceOf(
                AccessDecision.Unavailable.class, decision.get(CLOSE_SEEN_WITHIN.toSeconds(), TimeUnit.SECONDS));
        assertEquals("API server answered 503: etcd down", unavailable.error());
        assertEquals(1, apiServer.calls(), "fabric8 would have sent it again after 100 ms");
    }

    /**
     * Not {@code supplyAsync}: the JDK HTTP client runs what depends on a response (fabric8 asking for its body) on the
     * common pool, which has one thread on a two-core machine, so a review blocked there starves its own answer.
     */
    static <T> CompletableFuture<T> onItsOwnThread(java.util.function.Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                result.complete(work.get());
            } catch (Throwable failure) {
                result.completeExceptionally(failure);
            }
        });
        return result;
    }

    static void assertClosedByTheClient(HeldCall call) throws InterruptedException, ExecutionException {
        try {
            call.closed().get(CLOSE_SEEN_WITHIN.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail("the SubjectAccessReview's connection is still open " + CLOSE_SEEN_WITHIN.toSeconds()
                    + " s after its review's deadline");
        }
    }

    /** One SubjectAccessReview as the API server received it, not yet answered. */
    record HeldCall(String request, Socket socket, CompletableFuture<Void> closed) {
        void answer(String json) throws IOException {
            answer(201, json);
        }

        void answer(int status, String json) throws IOException {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                            + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        }
    }

    /**
     * An API server that reads each request whole and answers only when the test says; {@link HeldCall#closed()}
     * completes when the client closes (or resets) the connection.
     */
    static final class HeldApiServer implements AutoCloseable {
        static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");
        private final ServerSocket socket = new ServerSocket(0);
        private final BlockingQueue<HeldCall> calls = new LinkedBlockingQueue<>();
        private final Queue<Socket> accepted = new ConcurrentLinkedQueue<>();
        private final AtomicInteger received = new AtomicInteger();

        HeldApiServer() throws IOException {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Socket connection = socket.accept();
                        accepted.add(connection);
                        Thread.ofVirtual().start(() -> serve(connection));
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        int calls() {
            return received.get();
        }

        HeldCall nextCall() throws InterruptedException {
            HeldCall call = calls.poll(CLOSE_SEEN_WITHIN.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(call, "the SubjectAccessReview reached the API server");
            return call;
        }

        private void serve(Socket connection) {
            CompletableFuture<Void> closed = new CompletableFuture<>();
            try {
                InputStream in = connection.getInputStream();
                String request = readRequest(in);
                if (request == null) return;
                received.incrementAndGet();
                calls.add(new HeldCall(request, connection, closed));
                while (in.read() != -1) {
                    // a further request on this connection is never expected
                }
            } catch (IOException reset) {
                // a reset is a close too
            } finally {
                closed.complete(null);
            }
        }

        /** The request line, headers and body; null when the connection closed before a whole request came. */
        private static String readRequest(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b == -1) return null;
                head.write(b);
                matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String headers = head.toString(StandardCharsets.US_ASCII);
            Matcher length = CONTENT_LENGTH.matcher(headers);
            byte[] body = in.readNBytes(length.find() ? Integer.parseInt(length.group(1)) : 0);
            return headers + new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket connection : accepted) connection.close();
        }
    }
}
