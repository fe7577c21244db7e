package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export-only-when-stopped over HTTPS against the packaged server, with the policy reloaded live. */
class ExportEndToEndIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final YAMLMapper YAML = new YAMLMapper();
    static final String CLUSTER = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}
            - apiVersion: kubevirt.io/v1
              kind: VirtualMachine
              metadata: {name: web, namespace: team-a}
              spec: {runStrategy: Always, template: {spec: {volumes: [{name: root, dataVolume: {name: web-root}}]}}}
            - {apiVersion: kubevirt.io/v1, kind: VirtualMachineInstance, metadata: {name: web, namespace: team-a}, spec: {}, status: {phase: Running}}
            - apiVersion: kubevirt.io/v1
              kind: VirtualMachine
              metadata: {name: db, namespace: team-a}
              spec: {runStrategy: Halted, template: {spec: {volumes: [{name: root, dataVolume: {name: db-root}}]}}}
            - apiVersion: export.kubevirt.io/v1beta1
              kind: VirtualMachineExport
              metadata: {name: db-export, namespace: team-a, uid: 7f6c}
              spec: {source: {apiGroup: kubevirt.io, kind: VirtualMachine, name: db}}
              status: {phase: Ready}
            """;

    @TempDir
    Path work;

    Path cluster, policy;

    @BeforeEach
    void files() throws Exception {
        cluster = Files.createDirectories(work.resolve("cluster"));
        Files.writeString(cluster.resolve("cluster.yaml"), CLUSTER);
        policy = Files.writeString(work.resolve("policy.yaml"), "apiVersion: lockkeeper.dev/v1\nkind: Policy\n");
    }

    static byte[] review(
            String uid,
            String kind,
            String group,
            String version,
            String resource,
            String subresource,
            String operation,
            String object,
            String oldObject)
            throws Exception {
        ObjectNode request = JSON.createObjectNode();
        request.put("uid", uid).put("operation", operation).put("namespace", "team-a");
        request.putObject("kind").put("group", group).put("version", version).put("kind", kind);
        request.putObject("resource")
                .put("group", group)
                .put("version", version)
                .put("resource", resource);
        if (!subresource.isEmpty()) request.put("subResource", subresource);
        request.putObject("userInfo").put("username", "carol");
        request.set("object", YAML.readTree(object));
        if (oldObject != null) request.set("oldObject", YAML.readTree(oldObject));
        ObjectNode review =
                JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        review.set("request", request);
        return JSON.writeValueAsBytes(review);
    }

    static final String EXPORT_WEB =
            "{metadata: {name: web-export, namespace: team-a}, spec: {source: {apiGroup: kubevirt.io, kind: VirtualMachine, name: web}}}";
    static final String DB_HALTED =
            "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: db, namespace: team-a}, "
                    + "spec: {runStrategy: Halted, template: {spec: {volumes: [{name: root, dataVolume: {name: db-root}}]}}}}";

    @Test
    void refusesExportsOfRunningVmsAndStartsOfExportedOnesAndFollowsPolicyChanges() throws Exception {
        try (var server = Jars.serveEmbedded(
                        work, cluster, "--policy", policy.toString(), "--cert-check-interval", "200ms");
                var apiServer = new ApiServerClient(work.resolve("certs/ca.crt"), Jars.SERVICE_HOST, server.port)) {
            byte[] exportWeb = review(
                    "e1",
                    "VirtualMachineExport",
                    "export.kubevirt.io",
                    "v1",
                    "virtualmachineexports",
                    "",
                    "CREATE",
                    EXPORT_WEB,
                    null);
            JsonNode refused = response(apiServer.post("/validate", exportWeb));
            assertFalse(refused.path("allowed").asBoolean());
            assertTrue(
                    refused.path("status").path("message").asText().startsWith("Virtual Machine team-a/web is running"),
                    refused.toString());

            JsonNode start = response(apiServer.post(
                    "/validate",
                    review(
                            "s1",
                            "VirtualMachine",
                            "kubevirt.io",
                            "v1",
                            "virtualmachines",
                            "",
                            "UPDATE",
                            DB_HALTED.replace("runStrategy: Halted", "runStrategy: Always"),
                            DB_HALTED)));
            assertEquals(403, start.path("status").path("code").asInt());
            assertTrue(
                    start.path("status")
                            .path("message")
                            .asText()
                            .contains("VirtualMachineExport team-a/db-export (Ready)"),
                    start.toString());

            JsonNode pod = response(apiServer.post(
                    "/validate",
                    review(
                            "p1",
                            "Pod",
                            "",
                            "v1",
                            "pods",
                            "",
                            "CREATE",
                            "{metadata: {name: reader, namespace: team-a}, spec: {volumes: [{name: d, persistentVolumeClaim: {claimName: db-root}}]}}",
                            null)));
            assertFalse(pod.path("allowed").asBoolean());

            Files.writeString(policy, "rules: {export-source-in-use: warn}\n");
            JsonNode warned = null;
            for (int attempt = 0; attempt < 100; attempt++) {
                warned = response(apiServer.post("/validate", exportWeb));
                if (warned.path("allowed").asBoolean()) break;
                Thread.sleep(100);
            }
            assertTrue(warned.path("allowed").asBoolean(), "the edited policy is picked up without a restart");
            assertTrue(
                    warned.path("warnings")
                            .get(0)
                            .asText()
                            .startsWith("export-source-in-use (warn mode) would deny: Virtual Machine team-a/web"),
                    warned.toString());

            Files.writeString(policy, "rules: {export-source-in-use: maybe}\n");
            for (int attempt = 0;
                    attempt < 100 && server.output.stream().noneMatch(l -> l.contains("policy not reloaded"));
                    attempt++) {
                Thread.sleep(100);
            }
            assertTrue(
                    server.output.stream()
                            .anyMatch(l -> l.contains("policy not reloaded") && l.contains("\"maybe\" is not a mode")),
                    String.join("\n", server.output));
            assertTrue(
                    response(apiServer.post("/validate", exportWeb))
                            .path("allowed")
                            .asBoolean(),
                    "an invalid edit keeps the last good policy");
        }
    }

    @Test
    void refusesToStartWithAnInvalidPolicy() throws Exception {
        Files.writeString(policy, "rules: {export-source-in-uze: warn}\n");
        var result = Jars.run(
                work,
                Jars.WEBHOOK,
                "serve",
                "--cluster",
                cluster.toString(),
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--cert-dir",
                work.resolve("certs").toString(),
                "--policy",
                policy.toString());
        assertEquals(2, result.exit());
        assertTrue(result.stderr().contains("rules.export-source-in-uze: no such rule"), result.stderr());
    }

    private static JsonNode response(ApiServerClient.Response response) throws Exception {
        assertEquals(200, response.status(), response.body());
        return JSON.readTree(response.body().getBytes(StandardCharsets.UTF_8)).path("response");
    }
}
