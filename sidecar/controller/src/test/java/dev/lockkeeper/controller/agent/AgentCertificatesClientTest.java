package dev.lockkeeper.controller.agent;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.IssuedCertificate;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.controller.csr.AgentCsrApproval;
import dev.lockkeeper.controller.shell.CsrSigner;
import dev.lockkeeper.controller.testing.AuthenticatingMockCluster;
import dev.lockkeeper.controller.testing.AuthenticatingMockCluster.UserInfo;
import dev.lockkeeper.controller.testing.MockCluster;
import dev.lockkeeper.sidecar.wire.NodeTls;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent's certificate client with the controller's real {@link CsrSigner} against the mock API server, which fills
 * in who asked as the real one does ({@link AuthenticatingMockCluster}). The agent pod {@value #AGENT_POD} runs on
 * node-a with the agents' service account; its client authenticates with that pod's token.
 */
class AgentCertificatesClientTest {
    static final String NS = "lockkeeper", AGENT_POD = "lockkeeper-agent-x7k2p";
    static AuthenticatingMockCluster cluster;
    static KubernetesClient admin;
    static final CertificateAuthority CA =
            CertificateAuthority.generate(NodeCertificates.AGENT_CA_NAME, Duration.ofDays(3650), Clock.systemUTC());

    @TempDir
    Path tlsDir;

    final MutableClock clock = new MutableClock(Instant.now());
    CsrSigner signer;
    KubernetesClient agent;
    Watch watch;
    final List<String> created = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void cluster() {
        cluster = new AuthenticatingMockCluster();
        admin = MockCluster.patientClient(cluster.server());
        cluster.authenticate(
                "agent-token",
                UserInfo.pod(NS, "lockkeeper-agent", AGENT_POD, podOnNodeA(AGENT_POD, "lockkeeper-agent")));
        cluster.authenticate(
                "backup-token", UserInfo.pod(NS, "backup", "backup-tool", podOnNodeA("backup-tool", "backup")));
    }

    /** Returns the UID the API server gave the pod: what its token's identity carries. */
    static String podOnNodeA(String name, String serviceAccount) {
        return admin.resource(new PodBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withNamespace(NS)
                        .endMetadata()
                        .withNewSpec()
                        .withServiceAccountName(serviceAccount)
                        .withNodeName("node-a")
                        .addNewContainer()
                        .withName("agent")
                        .withImage("lockkeeper-controller")
                        .endContainer()
                        .endSpec()
                        .build())
                .create()
                .getMetadata()
                .getUid();
    }

    @AfterAll
    static void stop() {
        admin.close();
        MockCluster.destroy(cluster.server());
    }

    @BeforeEach
    void start() {
        agent = clientWithToken("agent-token");
        watch = admin.certificates().v1().certificateSigningRequests().watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, CertificateSigningRequest csr) {
                if (action == Action.ADDED) created.add(csr.getMetadata().getName());
            }

            @Override
            public void onClose(WatcherException cause) {}
        });
    }

    @AfterEach
    void cleanUp() {
        if (signer != null) signer.close();
        watch.close();
        agent.close();
        admin.certificates().v1().certificateSigningRequests().delete();
        admin.configMaps()
                .inNamespace(NS)
                .withName(AgentCertificates.CA_CONFIG_MAP)
                .delete();
    }

    KubernetesClient clientWithToken(String token) {
        return new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(admin.getConfiguration())
                        .withOauthToken(token)
                        .build())
                .build();
    }

    void startSigner() {
        signer = new CsrSigner(admin, new AgentCsrApproval.AgentIdentity(NS, "lockkeeper-agent"), CA, clock).start();
    }

    AgentCertificatesClient client(String node, Duration deadline) {
        return new AgentCertificatesClient(agent, NS, node, tlsDir, clock, deadline);
    }

    AgentCertificatesClient client() {
        return client("node-a", Duration.ofSeconds(20));
    }

    X509Certificate installed() throws Exception {
        return Pem.decodeCertificates(Files.readString(tlsDir.resolve("tls.crt")))
                .getFirst();
    }

    /** The JDK's own PKIX validation, with the agent CA as the only anchor: what a peer's TLS stack does. */
    static void assertChainsToAgentCa(X509Certificate certificate, Instant at) throws Exception {
        var parameters = new PKIXParameters(Set.of(new TrustAnchor(CA.certificate(), null)));
        parameters.setRevocationEnabled(false);
        parameters.setDate(java.util.Date.from(at));
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(certificate)), parameters);
    }

    List<CertificateSigningRequest> requests() {
        return admin.certificates().v1().certificateSigningRequests().list().getItems();
    }

    @Test
    void anAgentWithoutACertificateGetsOneForItsNodeSignedByTheAgentCa() throws Exception {
        startSigner();
        try (var certificates = client()) {
            Instant renewAt = certificates.ensure();
            X509Certificate certificate = installed();
            assertEquals(
                    List.of(List.of(6, "spiffe://lockkeeper.dev/node/node-a")),
                    certificate.getSubjectAlternativeNames().stream()
                            .map(List::copyOf)
                            .toList());
            assertChainsToAgentCa(certificate, clock.instant());
            assertEquals(certificate.getNotBefore().toInstant().plus(NodeCertificates.RENEW_AFTER), renewAt);
            assertEquals(Pem.encodeCertificate(CA.certificate()), Files.readString(tlsDir.resolve("ca.crt")));
            assertEquals(
                    PosixFilePermissions.fromString("rw-------"),
                    Files.getPosixFilePermissions(tlsDir.resolve("tls.key")));
            assertTrue(AgentCertificates.pairs(
                    certificate, Pem.decodePrivateKey(Files.readString(tlsDir.resolve("tls.key")))));
            assertEquals("node-a", NodeTls.load(tlsDir).node(), "the sidecar agent loads the files as written");
            assertEquals(1, created.size(), "one request");
            await("the request deleted once answered", () -> requests().isEmpty());
            try (var files = Files.list(tlsDir)) {
                assertEquals(
                        List.of("ca.crt", "tls.crt", "tls.key"),
                        files.map(f -> f.getFileName().toString()).sorted().toList(),
                        "no pending key or temporary file left");
            }
        }
    }

    @Test
    void aCurrentCertificateIsReusedWithoutARequest() throws Exception {
        startSigner();
        try (var certificates = client()) {
            Instant renewAt = certificates.ensure();
            String first = Files.readString(tlsDir.resolve("tls.crt"));
            clock.advance(Duration.ofHours(15));
            assertEquals(renewAt, certificates.ensure());
            assertEquals(first, Files.readString(tlsDir.resolve("tls.crt")));
            assertEquals(1, created.size(), "no second request: " + created);
        }
    }

    /** A certificate past its renewal time, or expired, is replaced by a new one for a new key. */
    @ParameterizedTest
    @ValueSource(ints = {17, 30})
    void aCertificateDueForRenewalOrExpiredIsReplaced(int hoursOld) throws Exception {
        IssuedCertificate old = writeOldCertificate(hoursOld);
        startSigner();
        try (var certificates = client()) {
            certificates.ensure();
            X509Certificate renewed = installed();
            assertNotEquals(old.certificate().getSerialNumber(), renewed.getSerialNumber());
            assertFalse(Files.readString(tlsDir.resolve("tls.key")).equals(Pem.encodePrivateKey(old.privateKey())));
            assertTrue(
                    renewed.getNotBefore().toInstant().isAfter(clock.instant().minus(Duration.ofHours(1))));
            assertChainsToAgentCa(renewed, clock.instant());
            assertEquals(1, created.size());
        }
    }

    IssuedCertificate writeOldCertificate(int hoursOld) throws Exception {
        IssuedCertificate old = CA.issueNode(
                "node-a",
                NodeCertificates.NODE_VALIDITY,
                Clock.fixed(clock.instant().minus(Duration.ofHours(hoursOld)), ZoneOffset.UTC));
        Files.writeString(tlsDir.resolve("tls.crt"), Pem.encodeCertificate(old.certificate()));
        Files.writeString(tlsDir.resolve("tls.key"), Pem.encodePrivateKey(old.privateKey()));
        Files.writeString(tlsDir.resolve("ca.crt"), Pem.encodeCertificate(CA.certificate()));
        return old;
    }

    /** The background renewal takes a new certificate when the renewal time comes, while the agent keeps running. */
    @Test
    void theBackgroundRenewalReplacesTheCertificateWhenItIsDue() throws Exception {
        startSigner();
        try (var certificates = client()) {
            Instant renewAt = certificates.ensure();
            X509Certificate first = installed();
            clock.advance(Duration.ofHours(17));
            certificates.renewInBackground(renewAt);
            await("a renewed certificate", () -> {
                try {
                    return !installed().getSerialNumber().equals(first.getSerialNumber());
                } catch (Exception e) {
                    return false;
                }
            });
            assertChainsToAgentCa(installed(), clock.instant());
        }
    }

    @Test
    void aCertificateForAnotherNodeIsDeniedAndTheAgentSaysWhy() {
        startSigner();
        try (var certificates = client("node-b", Duration.ofSeconds(20))) {
            var refused = assertThrows(AgentCertificates.Refused.class, certificates::ensure);
            assertTrue(
                    refused.getMessage()
                            .matches("certificate request lockkeeper-agent-node-b-[0-9a-f]{20} was denied"
                                    + " by the signer: AgentIdentityMismatch: certificate for node node-b requested by pod "
                                    + AGENT_POD + " on node node-a"),
                    refused.getMessage());
        }
        assertFalse(Files.exists(tlsDir.resolve("tls.crt")));
        assertFalse(Files.exists(tlsDir.resolve(AgentCertificatesClient.PENDING_KEY)));
        await("the denied request deleted", () -> requests().isEmpty());
    }

    /** A pod on the right node but not an agent: the API server names it in extra whatever it sent, and it is denied. */
    @Test
    void aPodThatIsNotAnAgentIsDenied() {
        startSigner();
        try (KubernetesClient backup = clientWithToken("backup-token");
                var certificates =
                        new AgentCertificatesClient(backup, NS, "node-a", tlsDir, clock, Duration.ofSeconds(20))) {
            var refused = assertThrows(AgentCertificates.Refused.class, certificates::ensure);
            assertTrue(
                    refused.getMessage()
                            .endsWith("requested by system:serviceaccount:lockkeeper:backup, not the agent service"
                                    + " account system:serviceaccount:lockkeeper:lockkeeper-agent"),
                    refused.getMessage());
        }
        assertFalse(Files.exists(tlsDir.resolve("tls.crt")));
    }

    /**
     * Nobody answers within the deadline: a clear error, and the request and its key stay, so the next attempt (or
     * the agent restarted) waits on the same request instead of adding one.
     */
    @Test
    void anUnansweredRequestIsWaitedOnAgainNotRepeated() throws Exception {
        startSigner();
        signer.close(); // the CA stays published, nobody signs
        signer = null;
        try (var certificates = client("node-a", Duration.ofSeconds(1))) {
            var timeout = assertThrows(java.io.IOException.class, certificates::ensure);
            assertTrue(
                    timeout.getMessage()
                            .endsWith(
                                    "was not answered within PT1S: is a controller running with" + " --agent-ca-dir?"),
                    timeout.getMessage());
            assertTrue(Files.exists(tlsDir.resolve(AgentCertificatesClient.PENDING_KEY)));
            assertEquals(1, requests().size());
        }
        startSigner();
        try (var certificates = client()) {
            certificates.ensure();
            assertChainsToAgentCa(installed(), clock.instant());
        }
        assertEquals(1, created.size(), "the restarted agent found its request: " + created);
    }

    @Test
    void withoutAPublishedCaTheAgentSaysSo() {
        try (var certificates = client("node-a", Duration.ofMillis(500))) {
            var refused = assertThrows(AgentCertificates.Refused.class, certificates::ensure);
            assertEquals(
                    "the agent CA is not published in ConfigMap lockkeeper/lockkeeper-agent-ca (after PT0.5S): is a"
                            + " controller running with --agent-ca-dir?",
                    refused.getMessage());
        }
        assertTrue(created.isEmpty());
    }

    static final CertificateAuthority OTHER_CA =
            CertificateAuthority.generate("someone-else", Duration.ofDays(365), Clock.systemUTC());

    /** What a rogue or broken signer might put in status.certificate, given the requester's key. */
    static Stream<Arguments> hostileAnswers() {
        BiFunction<String, PublicKey, String> pem =
                (text, key) -> Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
        Clock now = Clock.systemUTC();
        return Stream.of(
                Arguments.of(
                        "not base64",
                        (BiFunction<String, PublicKey, String>) (n, key) -> "%%% not base64 %%%",
                        "status.certificate is not base64"),
                Arguments.of(
                        "no certificate",
                        (BiFunction<String, PublicKey, String>) (n, key) -> pem.apply("garbage", key),
                        "status.certificate holds no PEM certificate"),
                Arguments.of(
                        "another node",
                        (BiFunction<String, PublicKey, String>) (n, key) -> pem.apply(
                                Pem.encodeCertificate(CA.issueNode("node-b", key, Duration.ofHours(24), now)), key),
                        "the issued certificate names node node-b, not node node-a"),
                Arguments.of(
                        "another CA",
                        (BiFunction<String, PublicKey, String>) (n, key) -> pem.apply(
                                Pem.encodeCertificate(OTHER_CA.issueNode("node-a", key, Duration.ofHours(24), now)),
                                key),
                        "the certificate does not chain to the agent CA lockkeeper-agent-ca"),
                Arguments.of(
                        "another key",
                        (BiFunction<String, PublicKey, String>) (n, key) -> pem.apply(
                                Pem.encodeCertificate(CA.issueNode(
                                        "node-a", KeyPairs.newP256().getPublic(), Duration.ofHours(24), now)),
                                key),
                        "the issued certificate is not for the key this agent sent"),
                Arguments.of(
                        "expired",
                        (BiFunction<String, PublicKey, String>) (n, key) -> pem.apply(
                                Pem.encodeCertificate(CA.issueNode(
                                        "node-a",
                                        key,
                                        Duration.ofHours(1),
                                        Clock.fixed(Instant.now().minus(Duration.ofHours(3)), ZoneOffset.UTC))),
                                key),
                        "the certificate does not chain to the agent CA lockkeeper-agent-ca"));
    }

    /**
     * A signer that approves and answers with something the agent must not install: the agent refuses it, and the
     * certificate it had (due for renewal, still valid) is left exactly as it was.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileAnswers")
    void aHostileAnswerIsRefusedAndTheFilesAreUntouched(
            String what, BiFunction<String, PublicKey, String> answer, String expected) throws Exception {
        startSigner();
        signer.close(); // CA published; the rogue below answers instead
        signer = null;
        writeOldCertificate(17);
        Map<String, String> before = contents();
        Thread rogue = Thread.ofPlatform().daemon().start(() -> rogueSigner(answer));
        try (var certificates = client()) {
            var refused = assertThrows(AgentCertificates.Refused.class, certificates::ensure);
            assertTrue(
                    refused.getMessage()
                                    .startsWith("refused the certificate issued for request lockkeeper-agent-node-a-")
                            && refused.getMessage().contains(": " + expected),
                    refused.getMessage());
        } finally {
            rogue.interrupt();
        }
        assertEquals(before, contents(), "the files are untouched");
        await("the answered request deleted", () -> requests().isEmpty());
    }

    Map<String, String> contents() throws Exception {
        var contents = new java.util.TreeMap<String, String>();
        try (var files = Files.list(tlsDir)) {
            for (Path file : files.toList()) contents.put(file.getFileName().toString(), Files.readString(file));
        }
        return contents;
    }

    void rogueSigner(BiFunction<String, PublicKey, String> answer) {
        var csrs = admin.certificates().v1().certificateSigningRequests();
        while (!Thread.currentThread().isInterrupted()) {
            for (CertificateSigningRequest csr : csrs.list().getItems()) {
                if (csr.getStatus() != null
                        && csr.getStatus().getConditions() != null
                        && !csr.getStatus().getConditions().isEmpty()) continue;
                try {
                    PublicKey key;
                    String pem =
                            new String(Base64.getDecoder().decode(csr.getSpec().getRequest()));
                    try (var parser = new PEMParser(new StringReader(pem))) {
                        key = new JcaPKCS10CertificationRequest((PKCS10CertificationRequest) parser.readObject())
                                .getPublicKey();
                    }
                    var approved = csrs.withName(csr.getMetadata().getName())
                            .approve(new CertificateSigningRequestConditionBuilder()
                                    .withType("Approved")
                                    .withStatus("True")
                                    .withReason("Rogue")
                                    .build());
                    approved.getStatus()
                            .setCertificate(answer.apply(csr.getSpec().getRequest(), key));
                    csrs.resource(approved).updateStatus();
                } catch (Exception e) {
                    // the next pass tries again
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** A clock the test moves forward: the renewal time comes without waiting 16 hours. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
