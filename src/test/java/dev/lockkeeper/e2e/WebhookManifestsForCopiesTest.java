package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.FailurePolicy;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The registrations of the copy rules: the one that mints clone tokens (and drops any a client sent) fails closed, so
 * a VolumeCopy is never stored without it having judged it; CopyTask writes, status included, are judged in the one
 * namespace CopyTasks live in; the webhook may watch VolumeCopies for the pod rule and nothing more of Lockkeeper's.
 */
class WebhookManifestsForCopiesTest {
    final List<ObjectNode> webhooks = read("webhooks.yaml");
    final CloneAuthorizer authorizer = new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE);

    static List<ObjectNode> read(String file) {
        try (InputStream in = Files.newInputStream(DeployManifestsTest.BASE.resolve(file))) {
            return Manifests.read(file, in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    JsonNode registration(String configurationKind, String name) {
        return webhooks.stream()
                .filter(o -> o.path("kind").asText().equals(configurationKind))
                .flatMap(o -> list(o.path("webhooks")).stream())
                .filter(w -> w.path("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + configurationKind + " webhook " + name));
    }

    AdmissionRule rule(List<AdmissionRule> rules, String name) {
        return rules.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theTokenMintingRegistrationFailsClosedForEveryVolumeCopyWrite() {
        JsonNode webhook = registration("MutatingWebhookConfiguration", "volumecopy.lockkeeper.dev");
        assertEquals(
                "Fail", webhook.path("failurePolicy").asText(), "a VolumeCopy admitted without it keeps a sent token");
        assertEquals(
                "IfNeeded",
                webhook.path("reinvocationPolicy").asText(),
                "a token added by a later webhook is dropped on reinvocation");
        assertEquals(
                "/mutate",
                webhook.path("clientConfig").path("service").path("path").asText());
        JsonNode rules = webhook.path("rules").get(0);
        assertEquals(List.of("lockkeeper.dev"), texts(rules.path("apiGroups")));
        assertEquals(List.of("volumecopies"), texts(rules.path("resources")));
        assertEquals(List.of("CREATE", "UPDATE"), texts(rules.path("operations")));
        assertFalse(webhook.has("objectSelector"), "no label may take a VolumeCopy out of its reach");
        assertFalse(webhook.has("namespaceSelector"), "nor any namespace");
        assertFalse(webhook.has("matchConditions"));
        var signer = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC());
        assertEquals(
                FailurePolicy.FAIL,
                rule(Rulebook.mutating(authorizer, signer), "volumecopy-clone-authorization")
                        .failurePolicy(),
                "a review past its deadline is denied too");
    }

    @Test
    void copyTaskWritesAndStatusWritesAreJudgedInTheInstallationNamespace() {
        JsonNode webhook = registration("ValidatingWebhookConfiguration", "copytask.lockkeeper.dev");
        assertEquals("Fail", webhook.path("failurePolicy").asText());
        assertEquals(
                "/validate",
                webhook.path("clientConfig").path("service").path("path").asText());
        JsonNode rules = webhook.path("rules").get(0);
        assertEquals(List.of("lockkeeper.dev"), texts(rules.path("apiGroups")));
        assertEquals(List.of("copytasks", "copytasks/status"), texts(rules.path("resources")));
        assertEquals(List.of("CREATE", "UPDATE", "DELETE"), texts(rules.path("operations")));
        JsonNode selector = webhook.path("namespaceSelector").path("matchExpressions");
        assertEquals(1, selector.size());
        assertEquals("kubernetes.io/metadata.name", selector.get(0).path("key").asText());
        assertEquals("In", selector.get(0).path("operator").asText());
        assertEquals(
                List.of("lockkeeper"),
                texts(selector.get(0).path("values")),
                "the namespace the CopyTasks live in, which every other registration leaves out");
        assertEquals(
                FailurePolicy.FAIL,
                rule(Rulebook.validating(authorizer), "copytask-writes").failurePolicy());
    }

    @Test
    void podsReachTheCopySourceRuleThroughTheOneHotPathPodRegistration() {
        List<JsonNode> podRegistrations = webhooks.stream()
                .filter(o -> o.path("kind").asText().equals("ValidatingWebhookConfiguration"))
                .flatMap(o -> list(o.path("webhooks")).stream())
                .filter(w -> list(w.path("rules")).stream()
                        .anyMatch(r -> texts(r.path("resources")).contains("pods")))
                .toList();
        assertEquals(1, podRegistrations.size(), "one call per pod serves both pod rules");
        JsonNode webhook = podRegistrations.getFirst();
        assertEquals(
                rule(Rulebook.validating(authorizer), "pod-mounts-copy-source")
                        .failurePolicy()
                        .registration(),
                webhook.path("failurePolicy").asText());
        assertTrue(
                webhook.path("matchConditions").toString().contains("persistentVolumeClaim"),
                "pods without a PVC never reach the webhook");
    }

    @Test
    void theWebhookWatchesVolumeCopiesAndReadsNothingElseOfLockkeepers() {
        ObjectNode clusterRole = read("rbac.yaml").stream()
                .filter(o -> o.path("kind").asText().equals("ClusterRole")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-webhook"))
                .findFirst()
                .orElseThrow();
        List<JsonNode> ours = list(clusterRole.path("rules")).stream()
                .filter(r -> texts(r.path("apiGroups")).contains("lockkeeper.dev"))
                .toList();
        assertEquals(1, ours.size());
        assertEquals(List.of("volumecopies"), texts(ours.getFirst().path("resources")));
        assertEquals(List.of("get", "list", "watch"), texts(ours.getFirst().path("verbs")));
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> items = new ArrayList<>();
        array.forEach(items::add);
        return items;
    }

    private static List<String> texts(JsonNode array) {
        return list(array).stream().map(JsonNode::asText).toList();
    }
}
