package dev.lockkeeper.webhook.cluster;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.webhook.cluster.live.CaBundleInjector;
import dev.lockkeeper.webhook.cluster.live.CertificateSecret;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.support.MockApiServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Self-managed certificates: the Secret every replica shares, and caBundle injection, against the mock API server. */
class CertificateSecretTest {
    static final ServingIdentity IDENTITY = new ServingIdentity("lockkeeper-webhook", "lockkeeper");

    @TempDir
    Path work;

    KubernetesMockServer server;
    KubernetesClient client;

    @BeforeEach
    void cluster() throws Exception {
        server = MockApiServer.startCrud();
        client = server.createClient();
        client.resource(Json.MAPPER.treeToValue(Json.YAML.readTree("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: MutatingWebhookConfiguration
                metadata: {name: lockkeeper}
                webhooks:
                - name: datavolume-clone.lockkeeper.dev
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  clientConfig: {service: {name: lockkeeper-webhook, namespace: lockkeeper, path: /mutate}}
                - name: someone-else.example.com
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  clientConfig: {service: {name: other, namespace: lockkeeper, path: /mutate}, caBundle: b3RoZXI=}
                """), MutatingWebhookConfiguration.class))
                .create();
        client.resource(Json.MAPPER.treeToValue(Json.YAML.readTree("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata: {name: lockkeeper}
                webhooks:
                - name: datavolume.lockkeeper.dev
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  clientConfig: {service: {name: lockkeeper-webhook, namespace: lockkeeper, path: /validate}}
                - name: virtualmachine.lockkeeper.dev
                  admissionReviewVersions: [v1]
                  sideEffects: None
                  clientConfig: {service: {name: lockkeeper-webhook, namespace: lockkeeper, path: /validate}, caBundle: c3RhbGU=}
                """), ValidatingWebhookConfiguration.class))
                .create();
    }

    @AfterEach
    void stop() {
        try {
            client.close();
        } finally {
            MockApiServer.destroy(server);
        }
    }

    CertificateSecret replica(String dir, Clock clock) {
        return new CertificateSecret(
                client,
                "lockkeeper",
                "lockkeeper-webhook-ca",
                new CertificateDirectory(work.resolve(dir), clock),
                IDENTITY);
    }

    CaBundleInjector injector() {
        return new CaBundleInjector(
                client, List.of("lockkeeper", "lockkeeper-restore"), "lockkeeper-webhook", "lockkeeper");
    }

    List<String> bundles() {
        var admission = client.admissionRegistration().v1();
        var bundles = new java.util.ArrayList<String>();
        admission
                .mutatingWebhookConfigurations()
                .withName("lockkeeper")
                .get()
                .getWebhooks()
                .forEach(w -> bundles.add(w.getClientConfig().getCaBundle()));
        admission
                .validatingWebhookConfigurations()
                .withName("lockkeeper")
                .get()
                .getWebhooks()
                .forEach(w -> bundles.add(w.getClientConfig().getCaBundle()));
        return bundles;
    }

    static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theFirstReplicaCreatesTheSecretAndInjectsItsCaIntoTheWebhooksOfThisServiceOnly() throws Exception {
        String ca = replica("a", Clock.systemUTC()).sync();
        assertEquals(3, injector().inject(ca));
        assertEquals(
                List.of(base64(ca), "b3RoZXI=", base64(ca), base64(ca)),
                bundles(),
                "the other service's webhook keeps its bundle");

        Secret secret = client.secrets()
                .inNamespace("lockkeeper")
                .withName("lockkeeper-webhook-ca")
                .get();
        assertEquals("kubernetes.io/tls", secret.getType());
        assertEquals(
                List.of("ca.crt", "ca.key", "tls.crt", "tls.key"),
                secret.getData().keySet().stream().sorted().toList());
        Path dir = work.resolve("a");
        assertEquals(ca, Files.readString(dir.resolve("ca.crt")));
        assertEquals(Files.readString(dir.resolve("tls.crt")), decoded(secret, "tls.crt"));
        X509Certificate serving =
                Pem.decodeCertificates(Files.readString(dir.resolve("tls.crt"))).getFirst();
        serving.verify(Pem.decodeCertificates(ca).getFirst().getPublicKey());

        assertEquals(0, injector().inject(ca), "a second pass finds nothing to change");
    }

    @Test
    void anotherReplicaServesTheSameCertificateUnderTheSameCa() throws Exception {
        String ca = replica("a", Clock.systemUTC()).sync();
        injector().inject(ca);
        assertEquals(ca, replica("b", Clock.systemUTC()).sync());
        assertEquals(Files.readString(work.resolve("a/tls.crt")), Files.readString(work.resolve("b/tls.crt")));
        assertEquals(Files.readString(work.resolve("a/tls.key")), Files.readString(work.resolve("b/tls.key")));
        assertEquals(0, injector().inject(ca));
    }

    @Test
    void anEmptiedCaBundleIsPutBack() throws Exception {
        String ca = replica("a", Clock.systemUTC()).sync();
        injector().inject(ca);
        client.admissionRegistration()
                .v1()
                .validatingWebhookConfigurations()
                .withName("lockkeeper")
                .edit(configuration -> {
                    configuration.getWebhooks().getFirst().getClientConfig().setCaBundle(null);
                    return configuration;
                });
        assertEquals(1, injector().inject(ca), "re-applying the manifests empties caBundle; the next sync repairs it");
        assertEquals(base64(ca), bundles().get(2));
    }

    @Test
    void aServingCertificateDueForRenewalIsRenewedUnderTheSameCaAndShared() throws Exception {
        Clock issued = Clock.fixed(Instant.now().minus(Duration.ofDays(340)), ZoneOffset.UTC);
        String ca = replica("a", issued).sync();
        String oldServing = Files.readString(work.resolve("a/tls.crt"));

        assertEquals(ca, replica("a", Clock.systemUTC()).sync(), "the CA stays, so caBundles stay valid");
        String renewed = Files.readString(work.resolve("a/tls.crt"));
        assertNotEquals(oldServing, renewed);
        assertTrue(Pem.decodeCertificates(renewed)
                .getFirst()
                .getNotAfter()
                .toInstant()
                .isAfter(Instant.now().plus(Duration.ofDays(300))));
        assertEquals(
                renewed,
                decoded(
                        client.secrets()
                                .inNamespace("lockkeeper")
                                .withName("lockkeeper-webhook-ca")
                                .get(),
                        "tls.crt"));

        replica("b", Clock.systemUTC()).sync();
        assertEquals(
                renewed,
                Files.readString(work.resolve("b/tls.crt")),
                "other replicas pick the renewal up from the Secret");
    }

    @Test
    void aReplicaThatLosesTheRenewalRaceAdoptsTheWinnersSecret() throws Exception {
        Clock issued = Clock.fixed(Instant.now().minus(Duration.ofDays(340)), ZoneOffset.UTC);
        replica("seed", issued).sync();
        Secret due = client.secrets()
                .inNamespace("lockkeeper")
                .withName("lockkeeper-webhook-ca")
                .get();
        replica("b", Clock.systemUTC()).sync();
        String winner = Files.readString(work.resolve("b/tls.crt"));

        // Replica a read the Secret before b renewed it, so it renews too, and its write is a stale one.
        String path = "/api/v1/namespaces/lockkeeper/secrets/lockkeeper-webhook-ca";
        server.expect().get().withPath(path).andReturn(200, due).once();
        server.expect()
                .put()
                .withPath(path)
                .andReturn(
                        409,
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409}")
                .once();
        replica("a", Clock.systemUTC()).sync();

        assertEquals(
                winner, Files.readString(work.resolve("a/tls.crt")), "a serves what b stored, not its own renewal");
        assertEquals(
                winner,
                decoded(
                        client.secrets()
                                .inNamespace("lockkeeper")
                                .withName("lockkeeper-webhook-ca")
                                .get(),
                        "tls.crt"));
    }

    @Test
    void aMissingWebhookConfigurationIsSkipped() throws Exception {
        String ca = replica("a", Clock.systemUTC()).sync();
        var injector = new CaBundleInjector(client, List.of("not-deployed"), "lockkeeper-webhook", "lockkeeper");
        assertEquals(0, injector.inject(ca));
    }

    static String decoded(Secret secret, String key) {
        Map<String, String> data = secret.getData();
        return new String(Base64.getDecoder().decode(data.get(key)), StandardCharsets.US_ASCII);
    }
}
