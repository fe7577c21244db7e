package dev.lockkeeper.webhook.http;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import dev.lockkeeper.webhook.support.Tls;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP edge over real HTTPS: status codes, exact error bodies, readiness, metrics, threading. */
class AdmissionServerTest {
    @TempDir
    Path certDir;

    Vertx vertx;
    AdmissionServer server;
    HttpClient http;
    final AtomicBoolean synced = new AtomicBoolean(true);
    final AtomicReference<Thread> reviewThread = new AtomicReference<>();
    final AdmissionMetrics metrics = new AdmissionMetrics();

    @BeforeEach
    void start() throws Exception {
        var certs = new CertificateDirectory(certDir, Clock.systemUTC());
        certs.ensure(new ServingIdentity("lockkeeper-webhook", "lockkeeper"));
        TestCluster cluster = new TestCluster.Recording(TestCluster.with(), reviewThread);
        var service = Rulebook.service(
                cluster,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                metrics,
                () -> dev.lockkeeper.webhook.policy.Policy.DEFAULT);
        vertx = Vertx.vertx();
        server = new AdmissionServer(
                vertx,
                new ServerSettings(
                        "127.0.0.1", 0, certs.certificate(), certs.privateKey(), Duration.ofSeconds(1), null),
                service,
                metrics,
                synced::get,
                "PUBLIC KEY PEM");
        server.start().toCompletionStage().toCompletableFuture().get();
        SSLContext tls = Tls.trusting(certs.caCertificate());
        http = HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop().toCompletionStage().toCompletableFuture().get();
        vertx.close().toCompletionStage().toCompletableFuture().get();
    }

    HttpResponse<String> post(String path, byte[] body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    URI uri(String path) {
        return URI.create("https://localhost:" + server.actualPort() + path);
    }

    static byte[] review(String dataVolumeYaml, String user) {
        var request = Reviews.createDataVolume("team-a", dataVolumeYaml);
        ObjectNode document = Reviews.document(request);
        ((ObjectNode) document.path("request").path("userInfo")).put("username", user);
        return document.toString().getBytes(StandardCharsets.UTF_8);
    }

    static final String CLONE = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: disk, namespace: team-a}
            spec: {source: {pvc: {namespace: golden-images, name: fedora-40}}, storage: {}}
            """;

    @Test
    void deniesOverHttpsEchoingTheUidAndRunsRulesOffTheEventLoop() throws Exception {
        HttpResponse<String> response = post("/mutate", review(CLONE, "bob"));
        assertEquals(200, response.statusCode());
        assertEquals(
                "application/json",
                response.headers().firstValue("Content-Type").orElse(""));
        JsonNode body = Json.MAPPER.readTree(response.body());
        assertEquals("uid-CREATE", body.path("response").path("uid").asText());
        assertFalse(body.path("response").path("allowed").asBoolean());
        assertEquals(403, body.path("response").path("status").path("code").asInt());
        Thread thread = reviewThread.get();
        assertTrue(thread.isVirtual(), "SubjectAccessReviews run on virtual threads");
        assertFalse(thread.getName().contains("eventloop"), thread.getName());
    }

    @Test
    void kindsAnEndpointDoesNotHandleAreAllowedWithoutPatch() throws Exception {
        String pod = """
                {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"p-1",
                 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
                 "operation":"CREATE","namespace":"team-a","object":{"metadata":{"name":"x"}}}}""";
        for (String path : new String[] {"/mutate", "/validate"}) {
            JsonNode response = Json.MAPPER
                    .readTree(post(path, pod.getBytes(StandardCharsets.UTF_8)).body())
                    .path("response");
            assertEquals("{\"uid\":\"p-1\",\"allowed\":true}", response.toString(), path);
        }
    }

    @Test
    void badInputGets400WithAStatusBody() throws Exception {
        HttpResponse<String> malformed = post("/validate", "{\"apiVersion\":".getBytes(StandardCharsets.UTF_8));
        assertEquals(400, malformed.statusCode());
        JsonNode status = Json.MAPPER.readTree(malformed.body());
        assertEquals("Status", status.path("kind").asText());
        assertEquals("BadRequest", status.path("reason").asText());
        assertEquals(400, status.path("code").asInt());
        assertTrue(status.path("message").asText().startsWith("malformed JSON"), status.toString());

        HttpResponse<String> noUid = post(
                "/mutate",
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}"
                        .getBytes(StandardCharsets.UTF_8));
        assertEquals(400, noUid.statusCode());
        assertEquals(
                "request.uid is missing",
                Json.MAPPER.readTree(noUid.body()).path("message").asText());

        HttpResponse<String> wrongKind =
                post("/mutate", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(400, wrongKind.statusCode());
    }

    @Test
    void deeplyNestedOrHugeObjectsAreAnsweredAndDoNotHurtTheServer() throws Exception {
        // Jackson refuses nesting past 1000 levels; 20,000 volumes (1.4 MB, about what etcd would store) exceed the
        // policy's limits.maxVolumes.
        String prefix =
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"deep\",\"object\":";
        String deep = prefix + "[".repeat(100_000) + "]".repeat(100_000) + "}}";
        HttpResponse<String> nested = post("/validate", deep.getBytes(StandardCharsets.UTF_8));
        assertEquals(400, nested.statusCode());
        assertTrue(
                Json.MAPPER.readTree(nested.body()).path("message").asText().contains("nesting depth"), nested.body());

        StringBuilder volumes = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
            volumes.append(i == 0 ? "" : ",")
                    .append("{\"name\":\"v")
                    .append(i)
                    .append("\",\"persistentVolumeClaim\":{\"claimName\":\"c")
                    .append(i)
                    .append("\"}}");
        String wide = """
                {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"wide",
                 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
                 "operation":"CREATE","namespace":"team-a","object":{"metadata":{"name":"x"},"spec":{"volumes":[%s]}}}}""".formatted(volumes);
        JsonNode answered = Json.MAPPER
                .readTree(
                        post("/validate", wide.getBytes(StandardCharsets.UTF_8)).body())
                .path("response");
        assertEquals("wide", answered.path("uid").asText());
        assertFalse(answered.path("allowed").asBoolean(), answered.toString());
        assertEquals(422, answered.path("status").path("code").asInt());
        assertEquals(
                "spec.volumes has 20000 items, more than the policy's limits.maxVolumes (256)",
                answered.path("status").path("message").asText());

        assertEquals(200, post("/mutate", review(CLONE, "alice")).statusCode(), "the server still answers");
    }

    @Test
    void bodiesOver7MiBGet413() throws Exception {
        HttpResponse<String> response = post("/validate", new byte[7 * 1024 * 1024 + 1]);
        assertEquals(413, response.statusCode());
        assertEquals(
                "RequestEntityTooLarge",
                Json.MAPPER.readTree(response.body()).path("reason").asText());
    }

    @Test
    void wrongMethodGets405AndUnknownPathGets404() throws Exception {
        HttpResponse<String> getMutate = get("/mutate");
        assertEquals(405, getMutate.statusCode());
        assertEquals("POST", getMutate.headers().firstValue("Allow").orElse(""));
        assertEquals(
                "MethodNotAllowed",
                Json.MAPPER.readTree(getMutate.body()).path("reason").asText());
        assertEquals(405, post("/healthz", new byte[0]).statusCode());
        assertEquals(404, get("/nope").statusCode());
    }

    @Test
    void readinessFollowsTheClusterView() throws Exception {
        assertEquals(200, get("/healthz").statusCode());
        assertEquals(200, get("/readyz").statusCode());
        synced.set(false);
        HttpResponse<String> notReady = get("/readyz");
        assertEquals(503, notReady.statusCode());
        assertTrue(notReady.body().contains("cluster view not synced"), notReady.body());
        assertEquals(200, get("/healthz").statusCode(), "liveness does not depend on the cluster");
    }

    @Test
    void metricsCountReviewsPerEndpointRuleAndDecision() throws Exception {
        post("/mutate", review(CLONE, "bob"));
        post("/validate", review(CLONE, "bob"));
        String scrape = get("/metrics").body();
        assertTrue(
                scrape.contains(
                        "lockkeeper_admission_reviews_seconds_count{decision=\"denied\",endpoint=\"mutate\"} 1"),
                scrape);
        assertTrue(
                scrape.contains(
                        "lockkeeper_admission_reviews_seconds_count{decision=\"allowed\",endpoint=\"validate\"} 1"),
                scrape);
        assertTrue(
                scrape.contains(
                        "lockkeeper_admission_rule_seconds_count{decision=\"denied\",endpoint=\"mutate\",rule=\"datavolume-clone-authorization\"} 1"),
                scrape);
        assertTrue(
                scrape.contains(
                        "lockkeeper_admission_rule_seconds_bucket{decision=\"denied\",endpoint=\"mutate\",rule=\"datavolume-clone-authorization\",le=\"0.002\"}"),
                scrape);
    }

    @Test
    void servesTheCloneTokenPublicKey() throws Exception {
        assertEquals("PUBLIC KEY PEM", get("/clone-token/public-key").body());
    }
}
