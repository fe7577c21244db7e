package dev.lockkeeper.webhook.http;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.IssuedCertificate;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With --client-ca, only callers holding a certificate from that CA reach the admission endpoints. */
class MutualTlsTest {
    @TempDir
    Path dir;

    Vertx vertx;
    AdmissionServer server;
    CertificateDirectory serving;
    CertificateAuthority apiServerCa;

    Path clientCa;

    @BeforeEach
    void start() throws Exception {
        serving = new CertificateDirectory(dir.resolve("serving"), Clock.systemUTC());
        serving.ensure(new ServingIdentity("lockkeeper-webhook", "lockkeeper"));
        apiServerCa = CertificateAuthority.generate("apiserver-client-ca", Duration.ofDays(1), Clock.systemUTC());
        clientCa = Files.writeString(dir.resolve("client-ca.crt"), Pem.encodeCertificate(apiServerCa.certificate()));
        startServer(Set.of());
    }

    void startServer(Set<String> pinnedCommonNames) throws Exception {
        if (server != null) server.stop().await();
        if (vertx != null) vertx.close().await();
        var service = Rulebook.service(
                TestCluster.with(),
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                new AdmissionMetrics(),
                () -> Policy.DEFAULT);
        vertx = Vertx.vertx();
        server = new AdmissionServer(
                vertx,
                new ServerSettings(
                                "127.0.0.1",
                                0,
                                serving.certificate(),
                                serving.privateKey(),
                                Duration.ofSeconds(1),
                                clientCa)
                        .withClientCommonNames(pinnedCommonNames),
                service,
                new AdmissionMetrics(),
                () -> true,
                "");
        server.start().toCompletionStage().toCompletableFuture().get();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop().toCompletionStage().toCompletableFuture().get();
        vertx.close().toCompletionStage().toCompletableFuture().get();
    }

    HttpClient client(IssuedCertificate clientCertificate) throws Exception {
        return client(clientCertificate, false);
    }

    /** {@code force}: present the certificate even when the server's CA list does not name its issuer. */
    HttpClient client(IssuedCertificate clientCertificate, boolean force) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(
                "ca",
                Pem.decodeCertificates(Files.readString(serving.caCertificate()))
                        .getFirst());
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        KeyManagerFactory keyManagers = null;
        if (clientCertificate != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", clientCertificate.privateKey(), new char[0], new Certificate[] {
                clientCertificate.certificate()
            });
            keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, new char[0]);
        }
        SSLContext tls = SSLContext.getInstance("TLS");
        KeyManager[] presented = keyManagers == null ? null : keyManagers.getKeyManagers();
        if (force) presented = new KeyManager[] {alwaysPresent((X509KeyManager) presented[0])};
        tls.init(presented, trustManagers.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(tls).build();
    }

    private static X509ExtendedKeyManager alwaysPresent(X509KeyManager keys) {
        return new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineClientAlias(
                    String[] type, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
                return "client";
            }

            @Override
            public String chooseClientAlias(String[] type, java.security.Principal[] issuers, java.net.Socket socket) {
                return "client";
            }

            @Override
            public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
                return keys.getCertificateChain(alias);
            }

            @Override
            public java.security.PrivateKey getPrivateKey(String alias) {
                return keys.getPrivateKey(alias);
            }

            @Override
            public String[] getClientAliases(String type, java.security.Principal[] issuers) {
                return new String[] {"client"};
            }

            @Override
            public String[] getServerAliases(String type, java.security.Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String type, java.security.Principal[] issuers, java.net.Socket socket) {
                return null;
            }
        };
    }

    HttpResponse<String> validate(HttpClient client) throws Exception {
        byte[] review = Reviews.document(
                        Reviews.createDataVolume("team-a", "{metadata: {name: d, namespace: team-a}, spec: {}}"))
                .toString()
                .getBytes();
        return client.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + server.actualPort() + "/validate"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(review))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void admissionNeedsAClientCertificateButProbesDoNot() throws Exception {
        HttpClient anonymous = client(null);
        HttpResponse<String> refused = validate(anonymous);
        assertEquals(401, refused.statusCode());
        assertEquals(
                "Unauthorized",
                Json.MAPPER.readTree(refused.body()).path("reason").asText());
        HttpResponse<String> health = anonymous.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + server.actualPort() + "/healthz"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), "kubelet probes carry no client certificate");
    }

    @Test
    void theApiServersCertificateIsAccepted() throws Exception {
        HttpResponse<String> accepted =
                validate(client(apiServerCa.issueClient("kube-apiserver", Duration.ofDays(1), Clock.systemUTC())));
        assertEquals(200, accepted.statusCode());
        assertEquals(
                "uid-CREATE",
                Json.MAPPER
                        .readTree(accepted.body())
                        .path("response")
                        .path("uid")
                        .asText());
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedDuringTheHandshake() throws Exception {
        CertificateAuthority stranger =
                CertificateAuthority.generate("stranger", Duration.ofDays(1), Clock.systemUTC());
        IssuedCertificate foreign = stranger.issueClient("kube-apiserver", Duration.ofDays(1), Clock.systemUTC());
        assertEquals(
                401, validate(client(foreign)).statusCode(), "a client that offers nothing acceptable gets no further");
        HttpClient impostor = client(foreign, true);
        assertThrows(
                IOException.class,
                () -> validate(impostor),
                "a presented certificate from another CA fails the handshake");
    }

    @Test
    void withPinnedCommonNamesAnotherCertificateFromTheSameCaIs403() throws Exception {
        startServer(Set.of("kube-apiserver", "kube-apiserver-proxy"));
        HttpResponse<String> accepted =
                validate(client(apiServerCa.issueClient("kube-apiserver", Duration.ofDays(1), Clock.systemUTC())));
        assertEquals(200, accepted.statusCode());
        assertEquals(
                200,
                validate(client(apiServerCa.issueClient("kube-apiserver-proxy", Duration.ofDays(1), Clock.systemUTC())))
                        .statusCode());

        HttpResponse<String> otherSubject =
                validate(client(apiServerCa.issueClient("some-pod", Duration.ofDays(1), Clock.systemUTC())));
        assertEquals(403, otherSubject.statusCode());
        var status = Json.MAPPER.readTree(otherSubject.body());
        assertEquals("Forbidden", status.path("reason").asText());
        assertEquals(
                "client certificate CN=some-pod is not one this webhook accepts (kube-apiserver, kube-apiserver-proxy)",
                status.path("message").asText());
        assertEquals(401, validate(client(null)).statusCode(), "no certificate at all is still 401");
    }
}
