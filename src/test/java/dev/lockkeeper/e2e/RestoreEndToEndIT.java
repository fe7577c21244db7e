package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.zjsonpatch.JsonPatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restored objects reviewed by the packaged webhook over HTTPS, as kube-apiserver sends them during a Velero restore. */
class RestoreEndToEndIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MAC_PATH = "/spec/template/spec/domain/devices/interfaces/0/macAddress";
    static final String UUID_PATH = "/spec/template/spec/domain/firmware/uuid";

    @TempDir
    Path work;

    Path cluster;

    @BeforeEach
    void clusterDirectory() throws Exception {
        cluster = Files.createDirectories(work.resolve("cluster"));
        Files.copy(Jars.EXAMPLES.resolve("example-cluster.yaml"), cluster.resolve("cluster.yaml"));
        Files.copy(
                Jars.ROOT.resolve("webhook/src/test/resources/restore/restore-cluster.yaml"),
                cluster.resolve("restore.yaml"));
    }

    static ObjectNode review(String name) throws Exception {
        return (ObjectNode) new YAMLMapper()
                .readTree(Jars.EXAMPLES.resolve("reviews").resolve(name).toFile());
    }

    record Reply(JsonNode response, ArrayNode patch) {}

    static Reply post(ApiServerClient apiServer, String path, ObjectNode review) throws Exception {
        ApiServerClient.Response reply = apiServer.post(path, JSON.writeValueAsBytes(review));
        assertEquals(200, reply.status(), reply.body());
        JsonNode response = JSON.readTree(reply.body()).path("response");
        assertEquals(
                review.path("request").path("uid").asText(),
                response.path("uid").asText());
        if (!response.has("patch")) return new Reply(response, null);
        assertEquals("JSONPatch", response.path("patchType").asText());
        return new Reply(response, (ArrayNode)
                JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText())));
    }

    /** The review the API server sends when it reinvokes the webhook on the object it patched. */
    static ObjectNode reinvocation(ObjectNode review, ArrayNode patch) {
        ObjectNode again = review.deepCopy();
        ((ObjectNode) again.get("request"))
                .set("object", JsonPatch.apply(patch, review.path("request").path("object")));
        return again;
    }

    /** "op path" of every operation, sorted: zjsonpatch orders operations on unrelated paths arbitrarily. */
    static List<String> ops(ArrayNode patch) {
        List<String> ops = new ArrayList<>();
        patch.forEach(
                op -> ops.add(op.path("op").asText() + " " + op.path("path").asText()));
        return ops.stream().sorted().toList();
    }

    @Test
    void restoredObjectsAreFixedOrRefusedOverHttps() throws Exception {
        try (var server = Jars.serveEmbedded(work, cluster);
                var apiServer = new ApiServerClient(work.resolve("certs/ca.crt"), Jars.SERVICE_HOST, server.port)) {
            ObjectNode dataVolume = review("restore-datavolume.yaml");
            Reply marked = post(apiServer, "/mutate", dataVolume);
            assertEquals(
                    "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"cdi.kubevirt.io/storage.prePopulated\":\"fedora-disk\"}}]",
                    marked.patch().toString(),
                    "pre-populated, and no clone token for a restored clone");
            assertFalse(post(apiServer, "/mutate", reinvocation(dataVolume, marked.patch()))
                    .response()
                    .has("patch"));

            ObjectNode vm = review("restore-virtualmachine.yaml");
            Reply replaced = post(apiServer, "/mutate", vm);
            assertEquals(List.of("replace " + MAC_PATH, "replace " + UUID_PATH), ops(replaced.patch()));
            JsonNode stored =
                    JsonPatch.apply(replaced.patch(), vm.path("request").path("object"));
            String mac = stored.at(MAC_PATH).asText();
            assertTrue(mac.matches("[0-9a-f][26ae](:[0-9a-f]{2}){5}"), mac);
            assertEquals(
                    List.of(
                            "restore: MAC 52:54:00:12:34:56 -> " + mac
                                    + " on interface default (used by VM team-b/web)",
                            "restore: uuid 6a1f3c2e-8d4b-4e7a-9c1d-2b3e4f5a6b7c -> "
                                    + stored.at(UUID_PATH).asText() + " (used by VM team-b/web)"),
                    JSON.convertValue(replaced.response().path("warnings"), List.class));
            assertFalse(post(apiServer, "/mutate", reinvocation(vm, replaced.patch()))
                    .response()
                    .has("patch"));

            ObjectNode pluginVm = vm.deepCopy();
            ((ObjectNode) pluginVm.at("/request/object/metadata/labels"))
                    .put("velero.io/restore-name", "nightly-plugin");
            Reply regenerated = post(apiServer, "/mutate", pluginVm);
            assertEquals(
                    List.of(
                            "add /metadata/annotations",
                            "add /spec/runStrategy",
                            "remove /spec/running",
                            "remove " + MAC_PATH,
                            "replace " + UUID_PATH),
                    ops(regenerated.patch()));
            assertEquals(
                    "{\"lockkeeper.dev/identity-regenerated-for\":\"nightly-plugin\"}",
                    JsonPatch.apply(
                                    regenerated.patch(),
                                    pluginVm.path("request").path("object"))
                            .at("/metadata/annotations")
                            .toString());
            assertFalse(post(apiServer, "/mutate", reinvocation(pluginVm, regenerated.patch()))
                    .response()
                    .has("patch"));

            JsonNode launcher = post(apiServer, "/validate", review("restore-launcher-pod.yaml"))
                    .response();
            assertFalse(launcher.path("allowed").asBoolean());
            assertEquals(403, launcher.path("status").path("code").asInt());
            assertEquals(
                    "Pod team-a/virt-launcher-web-x7k2p is a KubeVirt virt-launcher pod; not restored: KubeVirt starts a new one when the VM runs",
                    launcher.path("status").path("message").asText());
        }
    }
}
