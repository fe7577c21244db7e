package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged webhook as a real process, spoken to as kube-apiserver speaks to it. */
class WebhookEndToEndIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    Path cluster;

    @BeforeEach
    void clusterDirectory() throws Exception {
        cluster = Files.createDirectories(work.resolve("cluster"));
        Files.copy(Jars.EXAMPLES.resolve("example-cluster.yaml"), cluster.resolve("cluster.yaml"));
    }

    Jars.Server serve(String... extra) throws Exception {
        return Jars.serveEmbedded(work, cluster, extra);
    }

    static byte[] example(String name) throws Exception {
        JsonNode review = name.endsWith(".json")
                ? JSON.readTree(Jars.EXAMPLES.resolve("reviews").resolve(name).toFile())
                : new com.fasterxml.jackson.dataformat.yaml.YAMLMapper()
                        .readTree(Jars.EXAMPLES.resolve("reviews").resolve(name).toFile());
        return JSON.writeValueAsBytes(review);
    }

    @Test
    void decidesClonesOverHttpsVerifiedAgainstTheGeneratedCaLikeTheApiServer() throws Exception {
        try (var server = serve();
                var apiServer = new ApiServerClient(work.resolve("certs/ca.crt"), Jars.SERVICE_HOST, server.port)) {
            assertEquals(200, apiServer.get("/readyz").status());
            JsonNode allowed = JSON.readTree(apiServer
                            .post("/mutate", example("datavolume-clone-alice.json"))
                            .body())
                    .path("response");
            assertTrue(allowed.path("allowed").asBoolean(), allowed.toString());
            JsonNode patch = JSON.readTree(
                    Base64.getDecoder().decode(allowed.path("patch").asText()));
            String token = patch.get(0)
                    .path("value")
                    .path("cdi.kubevirt.io/storage.clone.token")
                    .asText();
            var publicKey = Pem.decodePublicKey(Files.readString(work.resolve("certs/clone-token.key.pub")));
            new CloneTokenVerifier(publicKey, Clock.systemUTC())
                    .verify(
                            token,
                            new CloneTokenVerifier.ExpectedClone(
                                    CloneTokenClaims.TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                    "golden-images",
                                    "fedora-40",
                                    "team-a",
                                    "fedora-disk",
                                    ""));

            ApiServerClient.Response denied = apiServer.post("/mutate", example("datavolume-clone-bob.json"));
            JsonNode status = JSON.readTree(denied.body()).path("response").path("status");
            assertEquals(403, status.path("code").asInt());
            assertTrue(status.path("message")
                    .asText()
                    .startsWith("User bob has insufficient permissions in clone source namespace golden-images."));

            JsonNode vm = JSON.readTree(apiServer
                            .post("/validate", example("virtualmachine-team-b.yaml"))
                            .body())
                    .path("response");
            assertEquals(
                    "spec.dataVolumeTemplates[0]",
                    vm.path("status")
                            .path("details")
                            .path("causes")
                            .get(0)
                            .path("field")
                            .asText());
            assertFalse(vm.has("patch"), "validating responses never carry a patch");
        }
    }

    @Test
    void refusesClientsThatDialAnotherNameOrTrustAnotherCa() throws Exception {
        try (var server = serve()) {
            assertThrows(
                    SSLHandshakeException.class,
                    () -> new ApiServerClient(work.resolve("certs/ca.crt"), "evil.example.com", server.port).close());
            CertificateAuthority stranger =
                    CertificateAuthority.generate("stranger", Duration.ofDays(1), Clock.systemUTC());
            Path strangerCa = work.resolve("stranger.crt");
            Files.writeString(strangerCa, Pem.encodeCertificate(stranger.certificate()));
            assertThrows(
                    SSLHandshakeException.class,
                    () -> new ApiServerClient(strangerCa, Jars.SERVICE_HOST, server.port).close());
        }
    }

    @Test
    void reusesGeneratedCertificatesAcrossRestarts() throws Exception {
        String firstCa;
        try (var server = serve()) {
            firstCa = Files.readString(work.resolve("certs/ca.crt"));
            assertTrue(
                    server.output.stream().anyMatch(l -> l.contains("CA certificate: " + work.resolve("certs/ca.crt"))),
                    server.output.toString());
        }
        try (var server = serve();
                var apiServer = new ApiServerClient(work.resolve("certs/ca.crt"), Jars.SERVICE_HOST, server.port)) {
            assertEquals(firstCa, Files.readString(work.resolve("certs/ca.crt")));
            assertTrue(
                    server.output.stream().anyMatch(l -> l.contains("certificates reused")), server.output.toString());
            assertEquals(200, apiServer.get("/healthz").status());
        }
    }

    @Test
    void picksUpRotatedCertificateFilesWithoutDroppingConnections() throws Exception {
        Path secret = Files.createDirectories(work.resolve("secret"));
        ServingIdentity identity = new ServingIdentity("lockkeeper-webhook", "lockkeeper");
        CertificateAuthority first = CertificateAuthority.generate("first", Duration.ofDays(30), Clock.systemUTC());
        CertificateAuthority second = CertificateAuthority.generate("second", Duration.ofDays(30), Clock.systemUTC());
        Path firstCa = work.resolve("first-ca.crt"), secondCa = work.resolve("second-ca.crt");
        Files.writeString(firstCa, Pem.encodeCertificate(first.certificate()));
        Files.writeString(secondCa, Pem.encodeCertificate(second.certificate()));
        // The kubelet's layout for a mounted Secret: files behind a "..data" symlink that is swapped atomically.
        writeVersion(secret, "..2026_11_22_a", first, identity);
        Files.createSymbolicLink(secret.resolve("..data"), Path.of("..2026_11_22_a"));
        Files.createSymbolicLink(secret.resolve("tls.crt"), Path.of("..data/tls.crt"));
        Files.createSymbolicLink(secret.resolve("tls.key"), Path.of("..data/tls.key"));

        try (var server = serve(
                        "--tls-cert",
                        secret.resolve("tls.crt").toString(),
                        "--tls-key",
                        secret.resolve("tls.key").toString(),
                        "--cert-check-interval",
                        "200ms");
                var before = new ApiServerClient(firstCa, Jars.SERVICE_HOST, server.port)) {
            assertEquals(200, before.get("/healthz").status());

            writeVersion(secret, "..2026_11_22_b", second, identity);
            Path swap = secret.resolve("..data_tmp");
            Files.createSymbolicLink(swap, Path.of("..2026_11_22_b"));
            Files.move(
                    swap,
                    secret.resolve("..data"),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);

            ApiServerClient rotated = connectOnceTrusted(secondCa, server.port);
            try (ApiServerClient after = rotated) {
                assertEquals(
                        "CN=second",
                        after.peerCertificate().getIssuerX500Principal().getName());
                assertEquals(
                        200,
                        after.post("/validate", example("datavolume-clone-alice.json"))
                                .status());
            }
            assertEquals(
                    200,
                    before.post("/validate", example("datavolume-clone-alice.json"))
                            .status(),
                    "the connection opened before the rotation keeps working");
            assertTrue(
                    server.output.stream().anyMatch(l -> l.contains("serving certificate reloaded")),
                    server.output.toString());
        }
    }

    @Test
    void reviewCommandDecidesFilesOfflineWithMeaningfulExitCodes() throws Exception {
        Path reviews = Jars.EXAMPLES.resolve("reviews");
        var allowed = Jars.run(
                work,
                Jars.WEBHOOK,
                "review",
                "--cluster",
                cluster.toString(),
                reviews.resolve("datavolume-clone-alice.json").toString());
        assertEquals(0, allowed.exit(), allowed.stderr());
        assertTrue(
                JSON.readTree(allowed.stdout()).path("response").path("allowed").asBoolean());

        var denied = Jars.run(
                work,
                Jars.WEBHOOK,
                "review",
                "--cluster",
                cluster.toString(),
                reviews.resolve("datavolume-clone-alice.json").toString(),
                reviews.resolve("virtualmachine-team-b.yaml").toString());
        assertEquals(1, denied.exit(), denied.stderr());

        var invalid = Jars.run(
                work,
                Jars.WEBHOOK,
                "review",
                "--cluster",
                cluster.toString(),
                reviews.resolve("datavolume-invalid.json").toString());
        assertEquals(1, invalid.exit());
        assertTrue(invalid.stdout().contains("\"message\" : \"PVC size is missing\""), invalid.stdout());

        Path garbage = Files.writeString(work.resolve("garbage.json"), "{not json", StandardCharsets.UTF_8);
        var bad = Jars.run(
                work,
                Jars.WEBHOOK,
                "review",
                "--cluster",
                cluster.toString(),
                garbage.toString(),
                work.resolve("missing.json").toString());
        assertEquals(2, bad.exit());
        assertTrue(
                bad.stderr().contains("garbage.json") && bad.stderr().contains("missing.json: no such file"),
                bad.stderr());

        var badCluster = Jars.run(
                work, Jars.WEBHOOK, "review", "--cluster", work.resolve("nope").toString(), garbage.toString());
        assertEquals(2, badCluster.exit());
        assertTrue(badCluster.stderr().contains("does not exist"), badCluster.stderr());
    }

    /** Issue 9's walk-through: KubeVirt's DataVolume for a dataVolumeTemplate whose PVC was restored first. */
    @Test
    void aTemplatesDataVolumeOverItsExistingPvcIsAdoptedAsCdiAdoptsIt() throws Exception {
        Path example = Jars.EXAMPLES.resolve("reviews").resolve("datavolume-template-existing-pvc.yaml");
        var adopted = Jars.run(work, Jars.WEBHOOK, "review", "--cluster", cluster.toString(), example.toString());
        assertEquals(0, adopted.exit(), adopted.stdout() + adopted.stderr());
        assertTrue(
                JSON.readTree(adopted.stdout()).path("response").path("allowed").asBoolean(), adopted.stdout());

        // the same DataVolume without KubeVirt's annotation (and no CDIConfig gate) is refused as CDI refuses it
        Path unmarked = Files.writeString(
                work.resolve("unmarked.yaml"),
                Files.readString(example)
                        .replace("annotations: {cdi.kubevirt.io/allowClaimAdoption: \"true\"}", "annotations: {}"));
        var refused = Jars.run(work, Jars.WEBHOOK, "review", "--cluster", cluster.toString(), unmarked.toString());
        assertEquals(1, refused.exit(), refused.stdout() + refused.stderr());
        assertTrue(refused.stdout().contains("Destination PVC team-a/db-root already exists"), refused.stdout());
    }

    @Test
    void serveRefusesBadOptionsBeforeListening() throws Exception {
        var zeroRetry =
                Jars.run(work, Jars.WEBHOOK, "serve", "--cluster", cluster.toString(), "--unserved-retry", "0s");
        assertEquals(2, zeroRetry.exit(), zeroRetry.stderr());
        assertTrue(zeroRetry.stderr().contains("--unserved-retry must be at least 1s"), zeroRetry.stderr());

        var notADuration =
                Jars.run(work, Jars.WEBHOOK, "serve", "--cluster", cluster.toString(), "--unserved-retry", "soon");
        assertEquals(2, notADuration.exit());
        assertTrue(notADuration.stderr().contains("'soon' is not a duration"), notADuration.stderr());

        var caSecretEmbedded =
                Jars.run(work, Jars.WEBHOOK, "serve", "--cluster", cluster.toString(), "--ca-secret", "ca");
        assertEquals(2, caSecretEmbedded.exit());
        assertTrue(caSecretEmbedded.stderr().contains("--ca-secret needs live mode"), caSecretEmbedded.stderr());

        var caSecretAndFiles = Jars.run(
                work, Jars.WEBHOOK, "serve", "--live", "--ca-secret", "ca", "--tls-cert", "a", "--tls-key", "b");
        assertEquals(2, caSecretAndFiles.exit());
        assertTrue(caSecretAndFiles.stderr().contains("leave out --tls-cert/--tls-key"), caSecretAndFiles.stderr());

        var badPort = Jars.run(work, Jars.WEBHOOK, "serve", "--cluster", cluster.toString(), "--port", "70000");
        assertEquals(2, badPort.exit());
        assertTrue(badPort.stderr().contains("--port must be 0-65535"), badPort.stderr());
    }

    private static ApiServerClient connectOnceTrusted(Path ca, int port) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                return new ApiServerClient(ca, Jars.SERVICE_HOST, port);
            } catch (SSLHandshakeException notYet) {
                Thread.sleep(100);
            }
        }
        return fail("new connections never got the rotated certificate");
    }

    private static void writeVersion(Path secret, String version, CertificateAuthority ca, ServingIdentity identity)
            throws Exception {
        Path dir = Files.createDirectories(secret.resolve(version));
        var issued = ca.issueServing(identity, Duration.ofDays(30), Clock.systemUTC());
        Files.writeString(dir.resolve("tls.key"), Pem.encodePrivateKey(issued.privateKey()));
        Files.writeString(dir.resolve("tls.crt"), Pem.encodeCertificate(issued.certificate()));
    }
}
