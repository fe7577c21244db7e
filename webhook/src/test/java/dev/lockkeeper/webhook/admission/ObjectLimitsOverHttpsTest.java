package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import dev.lockkeeper.webhook.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile objects over real HTTPS with the server's default intake limits: each is refused with a small 422 that
 * names the policy limit it passed, before any rule reads it, and the server answers a normal review afterwards.
 * Each test prints its time and response size (figures, not assertions).
 */
class ObjectLimitsOverHttpsTest {
    static final String RESTORE = """
            apiVersion: velero.io/v1
            kind: Restore
            metadata:
              name: plugin
              namespace: velero
              labels: {velero.kubevirt.io/generate-new-firmware-uuid: "true"}
            spec: {backupName: nightly}
            """;

    @TempDir
    Path certDir;

    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = new TestServer(certDir, TestCluster.with(RESTORE), settings -> settings);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aRestoredVmWithOneHundredThousandInterfacesIsASmall422() throws Exception {
        ObjectNode vm = TestCluster.yaml("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: web, namespace: team-a, labels: {velero.io/restore-name: plugin}}
                spec: {template: {spec: {domain: {devices: {}}}}}
                """);
        ArrayNode interfaces = ((ObjectNode) vm.at("/spec/template/spec/domain/devices")).putArray("interfaces");
        for (int i = 0; i < 100_000; i++) {
            interfaces
                    .addObject()
                    .put("name", "nic" + i)
                    .put("macAddress", String.format("02:00:00:%02x:%02x:%02x", i >> 16, (i >> 8) & 0xff, i & 0xff))
                    .putObject("bridge");
        }
        JsonNode response = refused("/mutate", Reviews.virtualMachine(Operation.CREATE, "team-a", vm, null));
        assertEquals(
                "spec.template.spec.domain.devices.interfaces has 100000 items, more than the policy's limits.maxInterfaces (256)",
                response.path("status").path("message").asText());
        assertEquals(
                "spec.template.spec.domain.devices.interfaces",
                response.path("status")
                        .path("details")
                        .path("causes")
                        .get(0)
                        .path("field")
                        .asText());
    }

    @Test
    void aVmWithTenThousandCrossNamespaceTemplatesIsASmall422() throws Exception {
        ObjectNode vm = Reviews.vmCloningFromGoldenImages(10_000);
        JsonNode response = refused("/validate", Reviews.virtualMachine(Operation.CREATE, "team-b", vm, null));
        assertEquals(
                "spec.dataVolumeTemplates has 10000 items, more than the policy's limits.maxDataVolumeTemplates (256)",
                response.path("status").path("message").asText());
    }

    /** POSTs {@code request}, prints the figures, and returns the AdmissionReview response after checking it is a small 422. */
    JsonNode refused(String path, AdmissionRequest request) throws Exception {
        byte[] body = Reviews.document(request).toString().getBytes(StandardCharsets.UTF_8);
        long started = System.nanoTime();
        HttpResponse<String> answer = server.post(path, body);
        long elapsed = System.nanoTime() - started;
        System.out.printf(
                "%s: request %d bytes, answered %d in %.1f ms (server-side decision %.1f ms) with %d bytes%n",
                path,
                body.length,
                answer.statusCode(),
                elapsed / 1e6,
                metric("lockkeeper_admission_reviews_seconds_sum") * 1e3,
                answer.body().length());
        assertEquals(
                200,
                answer.statusCode(),
                answer.body().substring(0, Math.min(500, answer.body().length())));
        assertTrue(answer.body().length() < 2048, answer.body().length() + " bytes");
        JsonNode response = Json.MAPPER.readTree(answer.body()).path("response");
        assertFalse(response.path("allowed").asBoolean());
        assertEquals(422, response.path("status").path("code").asInt(), answer.body());
        assertHealthy();
        return response;
    }

    /** The sum of every series of {@code name} on /metrics. */
    double metric(String name) throws Exception {
        double sum = 0;
        for (String line : server.get("/metrics").body().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " "))
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return sum;
    }

    void assertHealthy() throws Exception {
        byte[] normal = Reviews.document(
                        Reviews.createDataVolume("team-a", "{metadata: {name: d, namespace: team-a}, spec: {}}"))
                .toString()
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = server.post("/validate", normal);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(
                "uid-CREATE",
                Json.MAPPER.readTree(answer.body()).path("response").path("uid").asText());
    }
}
