package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
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
    /** Where the files are: manifests/ and manifests/self-managed-certs both render it. */
    static final Path BASE = MANIFESTS.resolve("base");

    final List<ObjectNode> objects = load();
    final CloneAuthorizer authorizer = new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE);

    static List<ObjectNode> load() {
        return render(MANIFESTS);
    }

    static List<ObjectNode> render(Path dir) {
        return Kustomize.render(dir);
    }

    /** The one object of this kind and name. */
    static ObjectNode object(List<ObjectNode> objects, String kind, String name) {
        List<ObjectNode> found = objects.stream()
                .filter(o -> o.path("kind").asText().equals(kind)
                        && o.path("metadata").path("name").asText().equals(name))
                .toList();
        assertEquals(1, found.size(), kind + " " + name);
        return found.getFirst();
    }

    ObjectNode object(String kind, String name) {
        return object(objects, kind, name);
    }

    static JsonNode podSpec(JsonNode workload) {
        return workload.path("spec").path("template").path("spec");
    }

    ObjectNode webhookDeployment() {
        return object("Deployment", "lockkeeper-webhook");
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
        for (Grant grant : grants("lockkeeper-webhook")) {
            if (Set.of("update", "patch", "delete", "deletecollection").contains(grant.verb()))
                fail("the webhook writes nothing but its own Secret: " + grant);
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
                        "manifests/base/policy.yaml",
                        configMap.path("data").path("policy.yaml").asText());
        ObjectNode deployment = webhookDeployment();
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
        ObjectNode deployment = webhookDeployment();
        JsonNode podLabels =
                deployment.path("spec").path("template").path("metadata").path("labels");
        List<ObjectNode> policies = objects.stream()
                .filter(o -> o.path("kind").asText().equals("NetworkPolicy")
                        && o.path("spec")
                                .path("podSelector")
                                .path("matchLabels")
                                .path("app.kubernetes.io/component")
                                .asText()
                                .equals("webhook"))
                .toList();
        assertEquals(1, policies.size(), "one NetworkPolicy guards the webhook");
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
        JsonNode pod = podSpec(webhookDeployment());
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

        JsonNode pod = podSpec(object(overlay, "Deployment", "lockkeeper-webhook"));
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

    // ---- the controller, the agents and who may use VolumeCopies ----

    /** One permission: a verb on a resource (and name), cluster-wide or in one namespace. */
    record Grant(String scope, String group, String resource, String verb, String name) {
        @Override
        public String toString() {
            return scope + " " + (group.isEmpty() ? "core" : group) + " " + resource + " " + verb
                    + (name.isEmpty() ? "" : " " + name);
        }
    }

    /** What service account {@code lockkeeper:NAME} may do, from every binding that names it. */
    Set<Grant> grants(String serviceAccount) {
        return grants(objects, serviceAccount);
    }

    static Set<Grant> grants(List<ObjectNode> objects, String serviceAccount) {
        Set<Grant> grants = new java.util.TreeSet<>(java.util.Comparator.comparing(Grant::toString));
        for (ObjectNode binding : objects) {
            String kind = binding.path("kind").asText();
            if (!kind.equals("RoleBinding") && !kind.equals("ClusterRoleBinding")) continue;
            boolean names = stream(binding.path("subjects"))
                    .anyMatch(s -> s.path("kind").asText().equals("ServiceAccount")
                            && s.path("name").asText().equals(serviceAccount)
                            && s.path("namespace").asText().equals("lockkeeper"));
            if (!names) continue;
            String scope = kind.equals("RoleBinding")
                    ? binding.path("metadata").path("namespace").asText()
                    : "cluster";
            JsonNode ref = binding.path("roleRef");
            ObjectNode role =
                    object(objects, ref.path("kind").asText(), ref.path("name").asText());
            if (ref.path("kind").asText().equals("Role"))
                assertEquals(scope, role.path("metadata").path("namespace").asText(), "a Role binds in its namespace");
            for (JsonNode rule : role.path("rules"))
                for (JsonNode group : rule.path("apiGroups"))
                    for (JsonNode resource : rule.path("resources"))
                        for (JsonNode verb : rule.path("verbs")) {
                            List<String> resourceNames = stream(rule.path("resourceNames"))
                                    .map(JsonNode::asText)
                                    .toList();
                            for (String name : resourceNames.isEmpty() ? List.of("") : resourceNames)
                                grants.add(new Grant(scope, group.asText(), resource.asText(), verb.asText(), name));
                        }
        }
        return grants;
    }

    /** Grants written as {@code SCOPE GROUP RESOURCES VERBS [NAMES]}, comma-separated lists, core group as "core". */
    static Set<String> expected(String... lines) {
        Set<String> grants = new java.util.TreeSet<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            for (String resource : f[2].split(","))
                for (String verb : f[3].split(","))
                    for (String name : f.length > 4 ? f[4].split(",") : new String[] {""})
                        grants.add(new Grant(f[0], f[1].equals("core") ? "" : f[1], resource, verb, name).toString());
        }
        return grants;
    }

    static Set<String> strings(Set<Grant> grants) {
        Set<String> out = new java.util.TreeSet<>();
        grants.forEach(g -> out.add(g.toString()));
        return out;
    }

    @Test
    void theControllerAndTheAgentsAreInstalledWithTheirApi() {
        for (String[] kindAndName : new String[][] {
            {"CustomResourceDefinition", "volumecopies.lockkeeper.dev"},
            {"CustomResourceDefinition", "copytasks.lockkeeper.dev"},
            {"VolumePopulator", "lockkeeper-volumecopy"},
            {"ServiceAccount", "lockkeeper-controller"},
            {"Deployment", "lockkeeper-controller"},
            {"PodDisruptionBudget", "lockkeeper-controller"},
            {"Certificate", "lockkeeper-agent-ca"},
            {"ServiceAccount", "lockkeeper-agent"},
            {"DaemonSet", "lockkeeper-agent"},
            {"NetworkPolicy", "lockkeeper-agent"},
            {"ClusterRole", "lockkeeper:volumecopies-edit"},
            {"ClusterRole", "lockkeeper:volumecopies-view"},
        }) object(kindAndName[0], kindAndName[1]);

        JsonNode volumeCopy = object("CustomResourceDefinition", "volumecopies.lockkeeper.dev");
        for (ObjectNode crd : objects) {
            if (!crd.path("kind").asText().equals("CustomResourceDefinition")) continue;
            String name = crd.path("metadata").path("name").asText();
            List<JsonNode> versions = stream(crd.path("spec").path("versions")).toList();
            assertEquals(1, versions.size(), name);
            assertTrue(versions.getFirst().path("served").asBoolean(), name + " is served");
            assertTrue(versions.getFirst().path("storage").asBoolean(), name + " is stored");
            assertTrue(versions.getFirst().path("subresources").has("status"), name + " has a status subresource");
            assertEquals("Namespaced", crd.path("spec").path("scope").asText(), name);
        }
        JsonNode sourceKind = object("VolumePopulator", "lockkeeper-volumecopy").path("sourceKind");
        assertEquals(
                volumeCopy.path("spec").path("group").asText(),
                sourceKind.path("group").asText());
        assertEquals(
                volumeCopy.path("spec").path("names").path("kind").asText(),
                sourceKind.path("kind").asText(),
                "the populator names the VolumeCopy kind");
    }

    /**
     * Each object says whose it is, and every selector (workloads, Services, PDBs, NetworkPolicies, anti-affinity)
     * selects exactly the pods of the workload of its own component.
     */
    @Test
    void eachComponentsObjectsCarryItsLabelAndItsSelectorsFindOnlyItsPods() {
        Set<String> components = Set.of("webhook", "controller", "agent");
        for (ObjectNode o : objects) {
            JsonNode labels = o.path("metadata").path("labels");
            assertEquals(
                    "lockkeeper",
                    labels.path("app.kubernetes.io/name").asText(),
                    o.path("metadata").toString());
            if (o.path("kind").asText().equals("Namespace"))
                assertFalse(labels.has("app.kubernetes.io/component"), "the namespace is everyone's");
            else
                assertTrue(
                        components.contains(
                                labels.path("app.kubernetes.io/component").asText()),
                        o.path("kind") + " " + o.path("metadata"));
        }
        // no kustomize namespace: field puts them there (it would misplace the VolumePopulator)
        Set<String> clusterScoped = Set.of(
                "Namespace",
                "ClusterRole",
                "ClusterRoleBinding",
                "CustomResourceDefinition",
                "VolumePopulator",
                "MutatingWebhookConfiguration",
                "ValidatingWebhookConfiguration",
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding");
        for (ObjectNode o : objects)
            assertEquals(
                    clusterScoped.contains(o.path("kind").asText()) ? "" : "lockkeeper",
                    o.path("metadata").path("namespace").asText(),
                    o.path("kind") + " " + o.path("metadata").path("name"));
        assertEquals("controller", component(object("Deployment", "lockkeeper-controller")));
        assertEquals("agent", component(object("DaemonSet", "lockkeeper-agent")));
        assertEquals("webhook", component(webhookDeployment()));
        List<ObjectNode> workloads = objects.stream()
                .filter(o -> Set.of("Deployment", "DaemonSet")
                        .contains(o.path("kind").asText()))
                .toList();
        for (ObjectNode o : objects) {
            JsonNode selector = switch (o.path("kind").asText()) {
                case "Deployment", "DaemonSet", "PodDisruptionBudget" ->
                    o.path("spec").path("selector");
                case "Service" -> wrap(o.path("spec").path("selector"));
                case "NetworkPolicy" -> o.path("spec").path("podSelector");
                default -> null;
            };
            if (selector == null) continue;
            assertTrue(selector.path("matchLabels").size() > 0, "selects some pods, not all: " + o.path("metadata"));
            List<String> selected = workloads.stream()
                    .filter(w -> matches(
                            selector,
                            w.path("spec").path("template").path("metadata").path("labels")))
                    .map(DeployManifestsTest::component)
                    .toList();
            assertEquals(
                    List.of(component(o)),
                    selected,
                    o.path("kind") + " " + o.path("metadata").path("name"));
        }
        for (ObjectNode workload : workloads) {
            JsonNode template = workload.path("spec").path("template");
            assertEquals(
                    component(workload),
                    template.path("metadata")
                            .path("labels")
                            .path("app.kubernetes.io/component")
                            .asText());
            for (JsonNode term : podSpec(workload)
                    .path("affinity")
                    .path("podAntiAffinity")
                    .path("preferredDuringSchedulingIgnoredDuringExecution"))
                assertEquals(
                        workload.path("spec").path("selector").path("matchLabels"),
                        term.path("podAffinityTerm").path("labelSelector").path("matchLabels"),
                        "replicas spread from their own kind");
        }
    }

    private static String component(JsonNode object) {
        return object.path("metadata")
                .path("labels")
                .path("app.kubernetes.io/component")
                .asText();
    }

    private static JsonNode wrap(JsonNode matchLabels) {
        return Json.YAML.createObjectNode().set("matchLabels", matchLabels);
    }

    private static boolean matches(JsonNode selector, JsonNode labels) {
        assertTrue(selector.path("matchExpressions").isEmpty(), "only matchLabels are used: " + selector);
        for (var label : selector.path("matchLabels").properties())
            if (!labels.path(label.getKey()).equals(label.getValue())) return false;
        return true;
    }

    /** Every permission the controller's calls need (rbac-controller.yaml says which call needs which), no more. */
    @Test
    void theControllerMayDoWhatItsCallsNeedAndNothingMore() {
        assertEquals(
                expected(
                        "cluster core persistentvolumeclaims get,list,watch,patch",
                        "cluster core persistentvolumes get,list,watch,patch",
                        "cluster core pods get,list,watch,create,delete",
                        "cluster core events get,create,patch",
                        "cluster storage.k8s.io storageclasses get,list,watch",
                        // DataVolumeAdoption: the VolumeCopy an opted-in DataVolume names, its DataVolume read by name
                        "cluster lockkeeper.dev volumecopies get,list,watch,create",
                        "cluster cdi.kubevirt.io datavolumes get",
                        "cluster lockkeeper.dev volumecopies/status update",
                        "cluster certificates.k8s.io certificatesigningrequests get,list,watch",
                        "cluster certificates.k8s.io certificatesigningrequests/approval,certificatesigningrequests/status update",
                        "cluster certificates.k8s.io signers approve,sign lockkeeper.dev/agent",
                        "lockkeeper core persistentvolumeclaims create,delete",
                        "lockkeeper lockkeeper.dev copytasks get,list,watch,create,patch,delete",
                        // ControllerCommand's --lease default
                        "lockkeeper coordination.k8s.io leases get,patch lockkeeper-controller",
                        "lockkeeper coordination.k8s.io leases create",
                        // CsrSigner publishes the agent CA for the agents
                        "lockkeeper core configmaps get,update lockkeeper-agent-ca",
                        "lockkeeper core configmaps create"),
                strings(grants("lockkeeper-controller")));
    }

    @Test
    void theAgentMayReadItsTasksWriteTheirStatusAndAskForItsCertificate() {
        assertEquals(
                expected(
                        "lockkeeper lockkeeper.dev copytasks get,list,watch",
                        "lockkeeper lockkeeper.dev copytasks/status patch",
                        "lockkeeper core configmaps get,list,watch lockkeeper-agent-ca",
                        "cluster certificates.k8s.io certificatesigningrequests create,get,list,watch,delete"),
                strings(grants("lockkeeper-agent")));
    }

    /**
     * The properties the two exact lists above must keep, stated on their own for whoever edits them: no wildcard
     * anywhere, no Secret for the controller or the agents, the agents' CopyTask access only in the installation
     * namespace, and volumecopies/status written by the controller alone (users must not fake a copy's outcome).
     */
    @Test
    void noRoleHasWildcardsAndOnlyTheControllerWritesACopysStatus() {
        for (ObjectNode role : objects) {
            if (!role.path("kind").asText().endsWith("Role")) continue;
            for (JsonNode rule : role.path("rules"))
                for (String field : List.of("apiGroups", "resources", "verbs", "resourceNames"))
                    for (JsonNode value : rule.path(field))
                        assertFalse(value.asText().contains("*"), "wildcard " + field + " in " + role.path("metadata"));
        }
        for (String account : List.of("lockkeeper-controller", "lockkeeper-agent"))
            for (Grant grant : grants(account))
                assertNotEquals("secrets", grant.resource(), account + " reads its keys from mounted files: " + grant);
        for (Grant grant : grants("lockkeeper-agent"))
            if (grant.resource().startsWith("copytasks"))
                assertEquals("lockkeeper", grant.scope(), "agents see CopyTasks of the installation only: " + grant);
        for (ObjectNode role : objects) {
            if (!role.path("kind").asText().endsWith("Role")) continue;
            boolean writesStatus =
                    stream(role.path("rules")).anyMatch(r -> contains(r.path("resources"), "volumecopies/status"));
            if (writesStatus)
                assertEquals(
                        "lockkeeper-controller",
                        role.path("metadata").path("name").asText(),
                        "only the controller writes volumecopies/status");
        }
        for (String account : List.of("lockkeeper-webhook", "lockkeeper-agent"))
            assertTrue(grants(account).stream().noneMatch(g -> g.resource().equals("volumecopies/status")), account);
    }

    /** Namespace editors and admins get VolumeCopies through the built-in roles' aggregation; viewers only read. */
    @Test
    void namespaceEditorsMayCreateVolumeCopiesAndViewersOnlyWatchThem() {
        ObjectNode edit = object("ClusterRole", "lockkeeper:volumecopies-edit");
        JsonNode editLabels = edit.path("metadata").path("labels");
        assertEquals(
                "true",
                editLabels.path("rbac.authorization.k8s.io/aggregate-to-edit").asText());
        assertEquals(
                "true",
                editLabels.path("rbac.authorization.k8s.io/aggregate-to-admin").asText());
        assertEquals(
                Json.YAML.valueToTree(List.of(java.util.Map.of(
                        "apiGroups",
                        List.of("lockkeeper.dev"),
                        "resources",
                        List.of("volumecopies"),
                        "verbs",
                        List.of("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")))),
                edit.path("rules"));
        ObjectNode view = object("ClusterRole", "lockkeeper:volumecopies-view");
        assertEquals(
                "true",
                view.path("metadata")
                        .path("labels")
                        .path("rbac.authorization.k8s.io/aggregate-to-view")
                        .asText());
        assertFalse(view.path("metadata").path("labels").has("rbac.authorization.k8s.io/aggregate-to-edit"));
        assertEquals(
                Json.YAML.valueToTree(List.of(java.util.Map.of(
                        "apiGroups",
                        List.of("lockkeeper.dev"),
                        "resources",
                        List.of("volumecopies"),
                        "verbs",
                        List.of("get", "list", "watch")))),
                view.path("rules"));
    }

    /**
     * Every file the controller's arguments name is in a mounted volume: the clone-token public key from the Secret
     * the webhook keeps its key pair in (only public.key projected), the agent CA from a CA Certificate of its own.
     */
    @Test
    void theControllersArgumentsNameMountedFiles() {
        ObjectNode deployment = object("Deployment", "lockkeeper-controller");
        assertEquals(2, deployment.path("spec").path("replicas").asInt());
        JsonNode pod = podSpec(deployment);
        assertEquals("lockkeeper-controller", pod.path("serviceAccountName").asText());
        JsonNode container = pod.path("containers").get(0);
        List<String> args = stream(container.path("args")).map(JsonNode::asText).toList();
        assertEquals("controller", args.getFirst());

        String publicKey = option(args, "--token-public-key");
        JsonNode tokenVolume = volumeHolding(pod, container, publicKey);
        String tokenSecret = stream(object("Role", "lockkeeper-webhook").path("rules"))
                .filter(r -> contains(r.path("resources"), "secrets") && r.has("resourceNames"))
                .findFirst()
                .orElseThrow()
                .path("resourceNames")
                .get(0)
                .asText();
        assertEquals(
                tokenSecret,
                tokenVolume.path("secret").path("secretName").asText(),
                "the Secret the webhook keeps its clone-token keys in");
        assertEquals(
                List.of("public.key"),
                stream(tokenVolume.path("secret").path("items"))
                        .map(i -> i.path("key").asText())
                        .toList(),
                "the private key stays out of the controller");
        assertEquals(
                Path.of(publicKey).getFileName().toString(),
                tokenVolume.path("secret").path("items").get(0).path("path").asText());

        String caDir = option(args, "--agent-ca-dir");
        JsonNode caVolume = volumeHolding(pod, container, caDir + "/tls.key");
        ObjectNode agentCa = object("Certificate", "lockkeeper-agent-ca");
        assertTrue(agentCa.path("spec").path("isCA").asBoolean());
        assertEquals(
                agentCa.path("spec").path("secretName").asText(),
                caVolume.path("secret").path("secretName").asText());
        assertNotEquals(
                object("Certificate", "lockkeeper-ca").path("spec").path("secretName"),
                agentCa.path("spec").path("secretName"),
                "the agents trust a CA of their own, not the webhook's");
        JsonNode issuer = agentCa.path("spec").path("issuerRef");
        object(issuer.path("kind").asText(), issuer.path("name").asText());

        for (String[] env : new String[][] {{"POD_NAME", "metadata.name"}, {"POD_NAMESPACE", "metadata.namespace"}})
            assertEquals(env[1], fieldRef(container, env[0]), env[0]);
        assertRestricted(pod, container);
        JsonNode budget = object("PodDisruptionBudget", "lockkeeper-controller").path("spec");
        assertEquals(1, budget.path("maxUnavailable").asInt(), "a drain keeps one replica");
    }

    private static String option(List<String> args, String name) {
        return args.stream()
                .filter(a -> a.startsWith(name + "="))
                .map(a -> a.substring(name.length() + 1))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " missing from " + args));
    }

    /** The volume mounted where {@code path} lies (the deepest mount above it). */
    private static JsonNode volumeHolding(JsonNode pod, JsonNode container, String path) {
        JsonNode mount = stream(container.path("volumeMounts"))
                .filter(m -> Path.of(path).startsWith(m.path("mountPath").asText()))
                .max(java.util.Comparator.comparing(
                        m -> m.path("mountPath").asText().length()))
                .orElseThrow(() -> new AssertionError("nothing is mounted where " + path + " is"));
        return stream(pod.path("volumes"))
                .filter(v -> v.path("name").equals(mount.path("name")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + mount.path("name")));
    }

    private static String fieldRef(JsonNode container, String env) {
        return stream(container.path("env"))
                .filter(e -> e.path("name").asText().equals(env))
                .findFirst()
                .orElseThrow(() -> new AssertionError(env + " is not set"))
                .path("valueFrom")
                .path("fieldRef")
                .path("fieldPath")
                .asText();
    }

    private static void assertRestricted(JsonNode pod, JsonNode container) {
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
        assertEquals(
                "RuntimeDefault",
                pod.path("securityContext").path("seccompProfile").path("type").asText());
        JsonNode context = container.path("securityContext");
        assertFalse(context.path("allowPrivilegeEscalation").asBoolean(true));
        assertTrue(context.path("readOnlyRootFilesystem").asBoolean());
        assertEquals("[\"ALL\"]", context.path("capabilities").path("drop").toString());
        assertFalse(context.path("capabilities").has("add"));
    }

    /**
     * The agent sees kubelet's pods and plugins directories at their host paths (block volumes are symlinks into
     * plugins/), with mounts made later propagated in, its state on the node and its key in memory, and nothing else
     * of the host; root with the short capability list, not privileged.
     */
    @Test
    void theAgentSeesKubeletsVolumesAndNothingElseOfTheHost() throws Exception {
        JsonNode pod = podSpec(object("DaemonSet", "lockkeeper-agent"));
        assertEquals("lockkeeper-agent", pod.path("serviceAccountName").asText());
        for (String hostNamespace : List.of("hostNetwork", "hostPID", "hostIPC"))
            assertFalse(pod.path(hostNamespace).asBoolean(), hostNamespace);
        JsonNode container = pod.path("containers").get(0);
        List<String> args = stream(container.path("args")).map(JsonNode::asText).toList();
        assertEquals(List.of("agent", "--request-certificate"), args.subList(0, 2));
        assertEquals("$(NODE_NAME)", option(args, "--node"));
        assertEquals("spec.nodeName", fieldRef(container, "NODE_NAME"));
        assertEquals("metadata.namespace", fieldRef(container, "POD_NAMESPACE"));

        String kubeletRoot = option(args, "--kubelet-root");
        Set<String> hostPaths = new java.util.TreeSet<>();
        for (JsonNode volume : pod.path("volumes"))
            if (volume.has("hostPath"))
                hostPaths.add(volume.path("hostPath").path("path").asText());
        String state = option(args, "--state-dir");
        assertEquals(Set.of(kubeletRoot + "/pods", kubeletRoot + "/plugins", state), hostPaths);
        for (String kubeletDir : List.of(kubeletRoot + "/pods", kubeletRoot + "/plugins")) {
            JsonNode mount = stream(container.path("volumeMounts"))
                    .filter(m -> m.path("mountPath").asText().equals(kubeletDir))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(kubeletDir + " is not mounted at its host path"));
            assertEquals("HostToContainer", mount.path("mountPropagation").asText(), kubeletDir);
            assertEquals(
                    kubeletDir,
                    volumeHolding(pod, container, kubeletDir)
                            .path("hostPath")
                            .path("path")
                            .asText());
        }
        assertEquals(
                state,
                volumeHolding(pod, container, state)
                        .path("hostPath")
                        .path("path")
                        .asText());
        JsonNode tls = volumeHolding(pod, container, option(args, "--tls-dir") + "/tls.key");
        assertEquals("Memory", tls.path("emptyDir").path("medium").asText(), "the node key stays off the disk");

        assertEquals(
                "RuntimeDefault",
                pod.path("securityContext").path("seccompProfile").path("type").asText());
        JsonNode context = container.path("securityContext");
        assertEquals(0, context.path("runAsUser").asInt(-1), "root: owners and modes of every file");
        assertFalse(context.path("privileged").asBoolean(true), "privileged only with components/block-volumes");
        assertFalse(context.path("allowPrivilegeEscalation").asBoolean(true));
        assertTrue(context.path("readOnlyRootFilesystem").asBoolean());
        assertEquals("[\"ALL\"]", context.path("capabilities").path("drop").toString());
        assertEquals(
                Set.of("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETFCAP"),
                Set.copyOf(stream(context.path("capabilities").path("add"))
                        .map(JsonNode::asText)
                        .toList()));

        assertEquals(8444, port(container, "data"));
        assertEquals(String.valueOf(port(container, "data")), option(args, "--data-port"));
        List<String> controllerArgs = stream(podSpec(object("Deployment", "lockkeeper-controller"))
                        .path("containers")
                        .get(0)
                        .path("args"))
                .map(JsonNode::asText)
                .toList();
        assertEquals(
                option(args, "--data-port"),
                option(controllerArgs, "--agent-data-port"),
                "the controller sends agents to the port they listen on");
        assertEquals(String.valueOf(port(container, "admin")), option(args, "--admin-port"));
        for (String[] probe : new String[][] {{"readinessProbe", "/readyz"}, {"livenessProbe", "/healthz"}}) {
            JsonNode get = container.path(probe[0]).path("httpGet");
            assertEquals(probe[1], get.path("path").asText(), probe[0]);
            assertEquals("admin", get.path("port").asText(), probe[0] + " asks the admin port");
        }
        JsonNode resources = container.path("resources");
        assertEquals("192Mi", resources.path("requests").path("memory").asText());
        assertEquals("256Mi", resources.path("limits").path("memory").asText());

        // the JVM flags ./lk agent runs the agent with (what the 127 MiB RSS was measured under)
        java.util.regex.Matcher lk = java.util.regex.Pattern.compile("exec java ((?:-X\\S+ )+)\"\\$\\{java_opts")
                .matcher(Files.readString(Jars.ROOT.resolve("lk")));
        assertTrue(lk.find(), "./lk agent's java command line");
        String toolOptions = stream(container.path("env"))
                .filter(e -> e.path("name").asText().equals("JAVA_TOOL_OPTIONS"))
                .findFirst()
                .orElseThrow()
                .path("value")
                .asText();
        for (String flag : lk.group(1).trim().split(" "))
            assertTrue(List.of(toolOptions.split(" ")).contains(flag), flag + " in " + toolOptions);
    }

    private static int port(JsonNode container, String name) {
        return stream(container.path("ports"))
                .filter(p -> p.path("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no port " + name))
                .path("containerPort")
                .asInt();
    }

    /** Block volumes need the agent privileged; only the component does that, and only to the agent. */
    @Test
    void onlyTheBlockVolumesComponentMakesTheAgentPrivileged() throws Exception {
        for (ObjectNode o : objects)
            for (JsonNode container : podSpec(o).path("containers"))
                assertFalse(
                        container.path("securityContext").path("privileged").asBoolean(),
                        o.path("metadata").path("name").asText());
        List<ObjectNode> withBlock = render(blockVolumesKustomization());
        List<ObjectNode> changed =
                withBlock.stream().filter(o -> !objects.contains(o)).toList();
        assertEquals(1, changed.size(), "the component changes the agent alone");
        JsonNode context = podSpec(object(changed, "DaemonSet", "lockkeeper-agent"))
                .path("containers")
                .get(0)
                .path("securityContext");
        assertTrue(context.path("privileged").asBoolean());
        assertTrue(
                context.path("allowPrivilegeEscalation").asBoolean(),
                "the API server refuses privileged with allowPrivilegeEscalation false");
        assertEquals(objects.size(), withBlock.size());
    }

    /** A kustomization beside the repository's that adds the block-volumes component, as the README shows. */
    static Path blockVolumesKustomization() throws java.io.IOException {
        Path dir = Files.createDirectories(Jars.ROOT.resolve("src/test/target/kustomize-block-volumes"));
        Files.writeString(dir.resolve("kustomization.yaml"), """
                resources: [%s]
                components: [%s]
                """.formatted(
                        dir.relativize(MANIFESTS), dir.relativize(MANIFESTS.resolve("components/block-volumes"))));
        return dir;
    }

    /**
     * Agents' data port: reached only from agent pods (no address range, no other namespace). Any other port the
     * policy opens is not the data port.
     */
    @Test
    void onlyAgentsReachTheAgentsDataPort() {
        ObjectNode daemonSet = object("DaemonSet", "lockkeeper-agent");
        JsonNode podLabels =
                daemonSet.path("spec").path("template").path("metadata").path("labels");
        JsonNode container = podSpec(daemonSet).path("containers").get(0);
        ObjectNode policy = object("NetworkPolicy", "lockkeeper-agent");
        JsonNode spec = policy.path("spec");
        assertTrue(matches(spec.path("podSelector"), podLabels), "guards the agents");
        assertEquals(
                List.of("Ingress"),
                stream(spec.path("policyTypes")).map(JsonNode::asText).toList());
        int dataPort = port(container, "data");
        boolean dataPortAdmitted = false;
        for (JsonNode rule : spec.path("ingress")) {
            assertFalse(rule.path("from").isEmpty(), "a rule without sources admits everyone: " + rule);
            assertFalse(rule.path("ports").isEmpty(), "a rule without ports admits all ports: " + rule);
            boolean data = stream(rule.path("ports")).anyMatch(p -> {
                JsonNode port = p.path("port");
                return port.isInt() ? port.asInt() == dataPort : port(container, port.asText()) == dataPort;
            });
            for (JsonNode source : rule.path("from")) {
                if (source.has("namespaceSelector")) assertTrue(source.has("podSelector"), "not whole namespaces");
                if (!data) continue;
                assertEquals(List.of("podSelector"), fieldNames(source), source.toString());
                assertTrue(matches(source.path("podSelector"), podLabels), "from agent pods: " + source);
                assertEquals(
                        podLabels.path("app.kubernetes.io/component"),
                        source.path("podSelector").path("matchLabels").path("app.kubernetes.io/component"),
                        "from agent pods only: " + source);
            }
            dataPortAdmitted |= data;
        }
        assertTrue(dataPortAdmitted, "agents can reach each other");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /**
     * Where kubectl is installed, its kustomize renders exactly what {@link Kustomize} does: the manifests, the
     * manifests with the block-volumes component, and manifests/self-managed-certs (kustomize refuses an overlay
     * inside its base, which is why the base is a directory of its own).
     */
    @Test
    void kubectlKustomizeRendersTheSame() throws Exception {
        Path kubectl = java.util.stream.Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(":"))
                .map(dir -> Path.of(dir, "kubectl"))
                .filter(Files::isExecutable)
                .findFirst()
                .orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(kubectl != null, "kubectl is not installed");
        Path blockVolumes = blockVolumesKustomization();
        for (Path dir : List.of(MANIFESTS, blockVolumes, MANIFESTS.resolve("self-managed-certs"))) {
            Process process = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String yaml = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, process.waitFor(), "kubectl kustomize " + dir);
            List<String> kubectls = sorted(Kustomize.parse(yaml)), ours = sorted(render(dir));
            assertEquals(
                    List.of(),
                    kubectls.stream().filter(o -> !ours.contains(o)).toList(),
                    dir + ": rendered by kubectl only (Kustomize renders instead: "
                            + ours.stream().filter(o -> !kubectls.contains(o)).toList() + ")");
            assertEquals(kubectls.size(), ours.size(), dir.toString());
        }
    }

    private static List<String> sorted(List<ObjectNode> objects) {
        return objects.stream().map(DeployManifestsTest::canonical).sorted().toList();
    }

    /** An object as JSON with every map's keys sorted, so two renderings compare by content. */
    private static String canonical(JsonNode node) {
        try {
            return Json.MAPPER
                    .writer()
                    .with(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                    .writeValueAsString(Json.MAPPER.treeToValue(node, Object.class));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
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
