package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What {@code kubectl apply -k manifests/} deploys agrees with what the server does. */
class DeployManifestsTest {
    static final Path MANIFESTS = Jars.ROOT.resolve("manifests");
    final List<ObjectNode> objects = load();
    final CloneAuthorizer authorizer = new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE);

    static List<ObjectNode> load() {
        return render(MANIFESTS);
    }

    /**
     * The objects a kustomization directory renders to, for the features these manifests use: resources (files, or
     * directories rendered in turn) and patches with a group/kind/name target, either a JSON Patch or a
     * {@code $patch: delete}. No kustomize binary runs here; this checks that every patch applies to what it targets.
     */
    static List<ObjectNode> render(Path dir) {
        try {
            JsonNode kustomization =
                    Json.YAML.readTree(dir.resolve("kustomization.yaml").toFile());
            List<ObjectNode> all = new ArrayList<>();
            for (JsonNode resource : kustomization.path("resources")) {
                Path path = dir.resolve(resource.asText()).normalize();
                if (Files.isDirectory(path)) {
                    all.addAll(render(path));
                    continue;
                }
                try (InputStream in = Files.newInputStream(path)) {
                    all.addAll(Manifests.read(resource.asText(), in));
                }
            }
            for (JsonNode patch : kustomization.path("patches")) {
                JsonNode target = patch.path("target");
                List<ObjectNode> targets =
                        all.stream().filter(o -> targets(target, o)).toList();
                assertFalse(targets.isEmpty(), "patch targets nothing: " + target);
                JsonNode body = Json.YAML.readTree(patch.path("patch").asText());
                if (body.path("$patch").asText().equals("delete")) {
                    all.removeAll(targets);
                    continue;
                }
                for (ObjectNode object : targets)
                    all.set(all.indexOf(object), (ObjectNode) io.fabric8.zjsonpatch.JsonPatch.apply(body, object));
            }
            return all;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean targets(JsonNode target, JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        return (!target.has("group") || target.path("group").asText().equals(group))
                && (!target.has("kind")
                        || target.path("kind")
                                .asText()
                                .equals(object.path("kind").asText()))
                && (!target.has("name")
                        || target.path("name")
                                .asText()
                                .equals(object.path("metadata").path("name").asText()));
    }

    List<JsonNode> webhooks(String configurationKind) {
        List<JsonNode> found = new ArrayList<>();
        objects.stream()
                .filter(o -> o.path("kind").asText().equals(configurationKind))
                .forEach(o -> o.path("webhooks").forEach(found::add));
        return found;
    }

    @Test
    void everyWebhookFollowsTheAdmissionContract() {
        List<JsonNode> all = new ArrayList<>(webhooks("MutatingWebhookConfiguration"));
        all.addAll(webhooks("ValidatingWebhookConfiguration"));
        assertFalse(all.isEmpty());
        for (JsonNode webhook : all) {
            String name = webhook.path("name").asText();
            assertEquals("[\"v1\"]", webhook.path("admissionReviewVersions").toString(), name);
            assertEquals("None", webhook.path("sideEffects").asText(), name);
            int timeout = webhook.path("timeoutSeconds").asInt();
            assertTrue(timeout >= 1 && timeout <= 3, name + " timeout " + timeout);
            assertTrue(
                    Set.of("Fail", "Ignore")
                            .contains(webhook.path("failurePolicy").asText()),
                    name + " must choose a failurePolicy");
            JsonNode excluded =
                    webhook.path("namespaceSelector").path("matchExpressions").path(0);
            // Lockkeeper's own kinds: CopyTasks live only in the installation namespace; VolumeCopies are judged in
            // every namespace (a client's clone token is dropped wherever one is created). The rest leave both out.
            if (name.equals("volumecopy.lockkeeper.dev")) {
                assertFalse(webhook.has("namespaceSelector"), name);
            } else if (name.equals("copytask.lockkeeper.dev")) {
                assertEquals("kubernetes.io/metadata.name", excluded.path("key").asText(), name);
                assertEquals("In", excluded.path("operator").asText(), name);
                assertEquals("[\"lockkeeper\"]", excluded.path("values").toString(), name);
            } else {
                assertEquals("kubernetes.io/metadata.name", excluded.path("key").asText(), name);
                assertEquals("NotIn", excluded.path("operator").asText(), name);
                assertTrue(
                        excluded.path("values").toString().contains("kube-system")
                                && excluded.path("values").toString().contains("lockkeeper"),
                        name);
            }
            assertEquals(
                    "lockkeeper-webhook",
                    webhook.path("clientConfig").path("service").path("name").asText(),
                    name);
        }
        webhooks("MutatingWebhookConfiguration")
                .forEach(w -> assertEquals(
                        "/mutate",
                        w.path("clientConfig").path("service").path("path").asText()));
        webhooks("ValidatingWebhookConfiguration")
                .forEach(w -> assertEquals(
                        "/validate",
                        w.path("clientConfig").path("service").path("path").asText()));
    }

    @Test
    void everyRuleIsRegisteredWithTheApiServer() {
        var signer = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC());
        assertCovered(Rulebook.mutating(authorizer, signer), webhooks("MutatingWebhookConfiguration"));
        assertCovered(Rulebook.validating(authorizer), webhooks("ValidatingWebhookConfiguration"));
    }

    private static void assertCovered(List<AdmissionRule> rules, List<JsonNode> webhooks) {
        for (AdmissionRule rule : rules) {
            var match = rule.match();
            for (Operation operation : match.operations()) {
                String resource =
                        match.subresource().isEmpty() ? match.resource() : match.resource() + "/" + match.subresource();
                boolean covered = webhooks.stream().anyMatch(w -> sends(w, rule, operation));
                assertTrue(
                        covered,
                        rule.name() + " needs a registration for " + operation + " " + resource + "." + match.group());
            }
        }
    }

    /** Whether {@code webhook} sends the requests {@code rule} judges for {@code operation}. */
    private static boolean sends(JsonNode webhook, AdmissionRule rule, Operation operation) {
        var match = rule.match();
        String resource =
                match.subresource().isEmpty() ? match.resource() : match.resource() + "/" + match.subresource();
        return stream(webhook.path("rules"))
                .anyMatch(r -> contains(r.path("apiGroups"), match.group())
                        && contains(r.path("resources"), resource)
                        && contains(r.path("operations"), operation.name()));
    }

    /**
     * A review past its deadline gets the failurePolicy of the rule still running, so each rule's must be that of the
     * registrations serving it: the API server applies theirs when the webhook does not answer at all. Where a kind is
     * sent by two registrations (VMI and pod CREATE), the restore rules are served by the ones selecting restored
     * objects by Velero's label, the others by the ones that do not.
     */
    @Test
    void eachRuleFailsOpenOrClosedAsTheRegistrationsServingItDo() {
        var signer = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC());
        assertFailurePolicies(Rulebook.mutating(authorizer, signer), webhooks("MutatingWebhookConfiguration"));
        assertFailurePolicies(Rulebook.validating(authorizer), webhooks("ValidatingWebhookConfiguration"));
    }

    private static void assertFailurePolicies(List<AdmissionRule> rules, List<JsonNode> webhooks) {
        for (AdmissionRule rule : rules) {
            List<JsonNode> sending = webhooks.stream()
                    .filter(w -> rule.match().operations().stream().anyMatch(o -> sends(w, rule, o)))
                    .toList();
            boolean restoreRule = rule.getClass().getPackageName().endsWith(".restore");
            List<JsonNode> serving = sending.stream()
                    .filter(w -> selectsRestoredObjects(w) == restoreRule)
                    .toList();
            if (serving.isEmpty()) serving = sending; // restored DataVolumes come through the DataVolume registration
            assertFalse(serving.isEmpty(), rule.name());
            for (JsonNode webhook : serving) {
                assertEquals(
                        webhook.path("failurePolicy").asText(),
                        rule.failurePolicy().registration(),
                        rule.name() + " is served by " + webhook.path("name").asText());
            }
        }
    }

    private static boolean selectsRestoredObjects(JsonNode webhook) {
        JsonNode selector = webhook.path("objectSelector");
        return selector.path("matchLabels").has("velero.io/restore-name")
                || stream(selector.path("matchExpressions"))
                        .anyMatch(e -> e.path("key").asText().equals("velero.io/restore-name"));
    }

    @Test
    void serviceAccountMayReadWhatTheInformersWatchAndNothingMore() {
        ObjectNode clusterRole = objects.stream()
                .filter(o -> o.path("kind").asText().equals("ClusterRole")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-webhook"))
                .findFirst()
                .orElseThrow();
        for (ResourceType watched : Rulebook.WATCHED) {
            boolean granted = stream(clusterRole.path("rules"))
                    .anyMatch(r -> contains(r.path("apiGroups"), watched.group())
                            && contains(r.path("resources"), watched.plural())
                            && contains(r.path("verbs"), "list")
                            && contains(r.path("verbs"), "watch")
                            && contains(r.path("verbs"), "get"));
            assertTrue(granted, "informer for " + watched + " needs get/list/watch");
        }
        assertTrue(stream(clusterRole.path("rules"))
                .anyMatch(r ->
                        contains(r.path("resources"), "subjectaccessreviews") && contains(r.path("verbs"), "create")));
        for (ObjectNode role : objects) {
            if (!role.path("kind").asText().endsWith("Role")) continue;
            for (JsonNode rule : role.path("rules")) {
                assertFalse(
                        rule.path("verbs").toString().contains("*"), "no wildcard verbs in " + role.path("metadata"));
                assertFalse(
                        rule.path("resources").toString().contains("\"*\""),
                        "no wildcard resources in " + role.path("metadata"));
                for (JsonNode verb : rule.path("verbs")) {
                    if (Set.of("update", "patch", "delete", "deletecollection").contains(verb.asText()))
                        fail("write verb " + verb + " in " + role.path("metadata"));
                }
            }
        }
    }

    @Test
    void theCloneSourceRoleThatDenialsRecommendIsShipped() {
        assertTrue(objects.stream()
                .anyMatch(o -> o.path("kind").asText().equals("ClusterRole")
                        && o.path("metadata").path("name").asText().equals(Rulebook.DEFAULT_CLONE_SOURCE_ROLE)
                        && o.path("rules").get(0).path("resources").toString().contains("datavolumes/source")));
    }

    @Test
    void shippedPolicyIsValidAndMountedWhereTheServerReadsIt() throws Exception {
        ObjectNode configMap = objects.stream()
                .filter(o -> o.path("kind").asText().equals("ConfigMap")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-policy"))
                .findFirst()
                .orElseThrow();
        Rulebook.policyParser()
                .parse(
                        "manifests/policy.yaml",
                        configMap.path("data").path("policy.yaml").asText());
        ObjectNode deployment = objects.stream()
                .filter(o -> o.path("kind").asText().equals("Deployment"))
                .findFirst()
                .orElseThrow();
        JsonNode container = deployment
                .path("spec")
                .path("template")
                .path("spec")
                .path("containers")
                .get(0);
        assertTrue(container.path("args").toString().contains("--policy=/etc/lockkeeper/policy/policy.yaml"));
        assertTrue(container.path("volumeMounts").toString().contains("/etc/lockkeeper/policy"));
    }

    /**
     * Forged reviews: the webhook's pods are selected by an ingress NetworkPolicy whose every rule
     * names the https port and a source (no rule admits everyone), and an everything-CIDR always
     * carves out the pod network.
     */
    @Test
    void aNetworkPolicyAdmitsOnlyTheApiServerSideToTheWebhook() {
        ObjectNode deployment = objects.stream()
                .filter(o -> o.path("kind").asText().equals("Deployment"))
                .findFirst()
                .orElseThrow();
        JsonNode podLabels =
                deployment.path("spec").path("template").path("metadata").path("labels");
        List<ObjectNode> policies = objects.stream()
                .filter(o -> o.path("kind").asText().equals("NetworkPolicy"))
                .toList();
        assertEquals(1, policies.size(), "one NetworkPolicy ships");
        JsonNode spec = policies.getFirst().path("spec");
        assertEquals(
                deployment.path("metadata").path("namespace"),
                policies.getFirst().path("metadata").path("namespace"));
        spec.path("podSelector")
                .path("matchLabels")
                .properties()
                .forEach(label -> assertEquals(
                        label.getValue(),
                        podLabels.path(label.getKey()),
                        "selects the webhook's pods: " + label.getKey()));
        assertFalse(
                spec.path("podSelector").path("matchLabels").isEmpty(), "selects the webhook's pods, not every pod");
        assertTrue(stream(spec.path("policyTypes")).anyMatch(t -> t.asText().equals("Ingress")));
        assertFalse(spec.path("ingress").isEmpty());
        for (JsonNode rule : spec.path("ingress")) {
            assertFalse(rule.path("from").isEmpty(), "a rule without sources admits everyone: " + rule);
            assertEquals(
                    List.of("https"),
                    stream(rule.path("ports")).map(p -> p.path("port").asText()).toList(),
                    rule.toString());
            for (JsonNode source : rule.path("from")) {
                JsonNode block = source.path("ipBlock");
                if (block.path("cidr").asText().endsWith("/0"))
                    assertFalse(block.path("except").isEmpty(), "pods are carved out: " + source);
                if (source.has("namespaceSelector"))
                    assertTrue(source.has("podSelector"), "not a whole namespace: " + source);
            }
        }
        JsonNode port = stream(deployment
                        .path("spec")
                        .path("template")
                        .path("spec")
                        .path("containers")
                        .get(0)
                        .path("ports"))
                .filter(p -> p.path("name").asText().equals("https"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                8443,
                port.path("containerPort").asInt(),
                "the named port the policy admits is the one the server listens on");
    }

    /** The kubelet's SIGKILL never cuts the drain short: preStop sleep + --shutdown-grace fit in the grace period. */
    @Test
    void terminationGraceCoversThePreStopDelayAndTheDrain() {
        JsonNode pod = objects.stream()
                .filter(o -> o.path("kind").asText().equals("Deployment"))
                .findFirst()
                .orElseThrow()
                .path("spec")
                .path("template")
                .path("spec");
        JsonNode container = pod.path("containers").get(0);
        List<String> preStop = stream(
                        container.path("lifecycle").path("preStop").path("exec").path("command"))
                .map(JsonNode::asText)
                .toList();
        assertEquals("sleep", preStop.getFirst(), "the Service drains before SIGTERM");
        long preStopSeconds = Long.parseLong(preStop.get(1));
        String grace = stream(container.path("args"))
                .map(JsonNode::asText)
                .filter(a -> a.startsWith("--shutdown-grace="))
                .findFirst()
                .orElseThrow()
                .substring("--shutdown-grace=".length());
        long graceSeconds =
                dev.lockkeeper.webhook.policy.GoDuration.parse(grace).toSeconds();
        assertTrue(
                pod.path("terminationGracePeriodSeconds").asLong() > preStopSeconds + graceSeconds,
                pod.path("terminationGracePeriodSeconds") + " <= " + preStopSeconds + " + " + graceSeconds);
    }

    @Test
    void servingCertificateCoversTheServiceNameTheApiServerDials() {
        ObjectNode certificate = objects.stream()
                .filter(o -> o.path("kind").asText().equals("Certificate")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-webhook"))
                .findFirst()
                .orElseThrow();
        assertTrue(certificate.path("spec").path("dnsNames").toString().contains(Jars.SERVICE_HOST));
    }

    @Test
    void withoutCertManagerTheWebhookManagesItsCertificatesWithNoMoreRightsThanThat() {
        List<ObjectNode> overlay = render(MANIFESTS.resolve("self-managed-certs"));
        assertTrue(overlay.stream().noneMatch(o -> o.path("apiVersion").asText().startsWith("cert-manager.io/")));
        List<ObjectNode> configurations = overlay.stream()
                .filter(o -> o.path("kind").asText().endsWith("WebhookConfiguration"))
                .toList();
        assertEquals(4, configurations.size());
        configurations.forEach(c -> assertFalse(
                c.path("metadata").path("annotations").has("cert-manager.io/inject-ca-from"),
                c.path("metadata").toString()));

        JsonNode pod = overlay.stream()
                .filter(o -> o.path("kind").asText().equals("Deployment"))
                .findFirst()
                .orElseThrow()
                .path("spec")
                .path("template")
                .path("spec");
        JsonNode container = pod.path("containers").get(0);
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        String secret = args.stream()
                .filter(a -> a.startsWith("--ca-secret="))
                .findFirst()
                .orElseThrow()
                .substring("--ca-secret=".length());
        String certDir = args.stream()
                .filter(a -> a.startsWith("--cert-dir="))
                .findFirst()
                .orElseThrow()
                .substring("--cert-dir=".length());
        assertTrue(args.stream().noneMatch(a -> a.startsWith("--tls-")), args.toString());
        JsonNode mount = stream(container.path("volumeMounts"))
                .filter(m -> m.path("mountPath").asText().equals(certDir))
                .findFirst()
                .orElseThrow();
        assertFalse(mount.path("readOnly").asBoolean(), "the certificate directory is written from the Secret");
        JsonNode volume = stream(pod.path("volumes"))
                .filter(v -> v.path("name").equals(mount.path("name")))
                .findFirst()
                .orElseThrow();
        assertEquals("Memory", volume.path("emptyDir").path("medium").asText(), "keys stay off the node's disk");
        assertTrue(
                container.path("securityContext").path("readOnlyRootFilesystem").asBoolean());

        ObjectNode role = overlay.stream()
                .filter(o -> o.path("kind").asText().equals("Role")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-webhook-certificates"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                Json.YAML.valueToTree(List.of(java.util.Map.of(
                        "apiGroups",
                        List.of(""),
                        "resources",
                        List.of("secrets"),
                        "resourceNames",
                        List.of(secret),
                        "verbs",
                        List.of("get", "update")))),
                role.path("rules"));
        ObjectNode clusterRole = overlay.stream()
                .filter(o -> o.path("kind").asText().equals("ClusterRole")
                        && o.path("metadata").path("name").asText().equals("lockkeeper-webhook-certificates"))
                .findFirst()
                .orElseThrow();
        JsonNode rule = clusterRole.path("rules").get(0);
        assertEquals(1, clusterRole.path("rules").size());
        assertEquals(
                Set.of("get", "update"),
                Set.copyOf(stream(rule.path("verbs")).map(JsonNode::asText).toList()));
        assertEquals(
                Set.copyOf(configurations.stream()
                        .map(c -> c.path("metadata").path("name").asText())
                        .toList()),
                Set.copyOf(
                        stream(rule.path("resourceNames")).map(JsonNode::asText).toList()),
                "exactly the configurations deployed, which are serve's --webhook-configurations default");
    }

    private static java.util.stream.Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> items = new ArrayList<>();
        array.forEach(items::add);
        return items.stream();
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode item : array) if (item.asText().equals(value)) return true;
        return false;
    }
}
