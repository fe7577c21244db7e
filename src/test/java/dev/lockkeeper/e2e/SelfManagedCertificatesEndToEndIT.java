package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --live --ca-secret} as the packaged jar against fabric8's mock API server holding the shipped webhook
 * configurations: the Secret is created, the caBundle injected, and a client that trusts only that caBundle reaches
 * the webhook under its Service name, as kube-apiserver would. A second replica serves the same certificate.
 */
class SelfManagedCertificatesEndToEndIT {
    static final String REVIEW = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"ns-1",
             "kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},
             "operation":"CREATE","object":{"metadata":{"name":"x"}}}}""";

    @TempDir
    Path work;

    KubernetesMockServer apiServer;
    KubernetesClient client;
    Path kubeconfig;

    @BeforeEach
    void cluster() throws Exception {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        apiServer = new KubernetesMockServer(
                new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), true);
        apiServer.init();
        client = apiServer.createClient();
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName("lockkeeper")
                        .endMetadata()
                        .build())
                .create();
        for (String file : List.of("webhooks.yaml", "webhooks-restore.yaml")) {
            try (InputStream in = Files.newInputStream(DeployManifestsTest.BASE.resolve(file))) {
                for (var object : Manifests.read(file, in))
                    client.resource(Json.MAPPER.treeToValue(object, GenericKubernetesResource.class))
                            .create();
            }
        }
        kubeconfig = Files.writeString(work.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters: [{name: mock, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
                users: [{name: e2e, user: {token: e2e}}]
                contexts: [{name: e2e, context: {cluster: mock, user: e2e, namespace: lockkeeper}}]
                current-context: e2e
                """.formatted(
                        client.getMasterUrl().toString().replaceAll("/$", "")));
    }

    @AfterEach
    void stop() {
        client.close();
        try {
            apiServer.destroy();
        } catch (IllegalStateException stuck) {
            // fabric8's mock can deadlock closing a watch (see the webhook module's MockApiServer); the test is over
        }
    }

    Jars.Server replica(String certDir) throws Exception {
        return new Jars.Server(
                work,
                Map.of("KUBECONFIG", kubeconfig.toString()),
                "serve",
                "--live",
                "--ca-secret",
                "lockkeeper-webhook-ca",
                "--cert-dir",
                work.resolve(certDir).toString(),
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--service-namespace",
                "lockkeeper");
    }

    String caBundle() {
        MutatingWebhookConfiguration mutating = client.admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("lockkeeper")
                .get();
        return mutating.getWebhooks().getFirst().getClientConfig().getCaBundle();
    }

    @Test
    void theWebhookIssuesItsCertificateInjectsTheCaAndIsReachableThroughIt() throws Exception {
        int webhooks = 0;
        for (String name : List.of("lockkeeper", "lockkeeper-restore")) {
            var admission = client.admissionRegistration().v1();
            webhooks += admission
                    .mutatingWebhookConfigurations()
                    .withName(name)
                    .get()
                    .getWebhooks()
                    .size();
            webhooks += admission
                    .validatingWebhookConfigurations()
                    .withName(name)
                    .get()
                    .getWebhooks()
                    .size();
        }
        try (Jars.Server first = replica("certs-a")) {
            assertTrue(
                    first.output.stream().anyMatch(l -> l.contains("caBundle injected into")),
                    String.join("\n", first.output));
            String bundle = caBundle();
            assertNotNull(bundle, "caBundle injected");
            List<String> bundles = new ArrayList<>();
            for (String name : List.of("lockkeeper", "lockkeeper-restore")) {
                var admission = client.admissionRegistration().v1();
                admission
                        .mutatingWebhookConfigurations()
                        .withName(name)
                        .get()
                        .getWebhooks()
                        .forEach(w -> bundles.add(w.getClientConfig().getCaBundle()));
                admission
                        .validatingWebhookConfigurations()
                        .withName(name)
                        .get()
                        .getWebhooks()
                        .forEach(w -> bundles.add(w.getClientConfig().getCaBundle()));
            }
            assertEquals(webhooks, bundles.size());
            assertTrue(bundles.stream().allMatch(bundle::equals), "every shipped webhook got the same caBundle");
            assertEquals(
                    "kubernetes.io/tls",
                    client.secrets()
                            .inNamespace("lockkeeper")
                            .withName("lockkeeper-webhook-ca")
                            .get()
                            .getType());

            Path trusted = Files.write(
                    work.resolve("ca-bundle.crt"), Base64.getDecoder().decode(bundle));
            try (ApiServerClient asApiServer = new ApiServerClient(trusted, Jars.SERVICE_HOST, first.port)) {
                var response = asApiServer.post("/validate", REVIEW.getBytes(StandardCharsets.UTF_8));
                assertEquals(200, response.status(), response.body());
                assertTrue(Json.MAPPER
                        .readTree(response.body())
                        .path("response")
                        .path("allowed")
                        .asBoolean());
            }

            try (Jars.Server second = replica("certs-b")) {
                assertEquals(
                        Files.readString(work.resolve("certs-a/tls.crt")),
                        Files.readString(work.resolve("certs-b/tls.crt")),
                        "replicas serve one certificate");
                assertTrue(
                        second.output.stream().anyMatch(l -> l.contains("caBundle injected into 0 webhook(s)")),
                        String.join("\n", second.output));
                assertEquals(bundle, caBundle());
            }
        }
    }
}
