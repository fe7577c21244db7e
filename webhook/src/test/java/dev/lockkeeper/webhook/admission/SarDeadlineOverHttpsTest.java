package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.live.CachingAccessReviewer;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.support.MockApiServer;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import dev.lockkeeper.webhook.support.TestServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server's {@code ?timeout=} bounds a review whose SubjectAccessReviews hang at the API server (fabric8's mock,
 * answering after a minute; the SAR timeout is 15 s): a VM with five cross-namespace templates is denied with a 504 at
 * the review's budget, over real HTTPS, instead of after five SAR timeouts.
 */
@Timeout(60) // without the deadline the review takes 5 x 15 s
class SarDeadlineOverHttpsTest {
    static final String SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

    @TempDir
    Path certDir;

    KubernetesMockServer apiServer;
    KubernetesClient client;
    TestServer server;
    final AtomicInteger sarsReceived = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        apiServer = MockApiServer.startCrud();
        apiServer
                .expect()
                .post()
                .delay(1, TimeUnit.MINUTES)
                .withPath(SAR_PATH)
                .andReply(201, request -> {
                    sarsReceived.incrementAndGet();
                    return Map.of(
                            "apiVersion",
                            "authorization.k8s.io/v1",
                            "kind",
                            "SubjectAccessReview",
                            "status",
                            Map.of("allowed", true));
                })
                .always();
        client = apiServer.createClient();
        var reviewer =
                new CachingAccessReviewer(client, new SarSettings(Duration.ofSeconds(10), 100, Duration.ofSeconds(15)));
        server = new TestServer(
                certDir, new TestCluster.ReviewingWithin(TestCluster.with(), reviewer::review), settings -> settings);
    }

    @AfterEach
    void stop() {
        try {
            server.close();
            client.close();
        } finally {
            MockApiServer.destroy(apiServer);
        }
    }

    @Test
    void aHangingSubjectAccessReviewIsCutAtTheReviewsBudget() throws Exception {
        ObjectNode vm = Reviews.vmCloningFromGoldenImages(5);
        byte[] body = Reviews.document(Reviews.virtualMachine(Operation.CREATE, "team-b", vm, null))
                .toString()
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = server.post("/validate?timeout=2s", body);
        assertEquals(200, answer.statusCode(), answer.body());
        JsonNode response = Json.MAPPER.readTree(answer.body()).path("response");
        assertFalse(response.path("allowed").asBoolean());
        assertEquals(504, response.path("status").path("code").asInt(), answer.body());
        assertEquals(
                "rule virtualmachine-clone-authorization did not finish within the review's deadline of 1500 ms; denied, as its"
                        + " webhook fails closed (failurePolicy Fail)",
                response.path("status").path("message").asText());
        assertEquals(1, sarsReceived.get(), "the first template's SAR was sent and is still unanswered");
    }
}
