package dev.lockkeeper.webhook.http;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.IssuedCertificate;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.support.TestCluster;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Serving-certificate rotation over the real HTTPS server, with the files laid out as a Secret volume
 * (each file a symlink through {@code ..data}, swapped in one rename): what is refused keeps the
 * certificate in use, is counted once, and shows on {@code /readyz}; a valid pair is still picked up after.
 */
class CertificateRotationTest {
    static final ServingIdentity IDENTITY = new ServingIdentity("lockkeeper-webhook", "lockkeeper");
    static final Duration CHECK = Duration.ofMillis(100);

    @TempDir
    Path dir;

    CertificateAuthority ca;
    SecretVolume volume;
    Vertx vertx;
    AdmissionServer server;
    AdmissionMetrics metrics;

    @BeforeEach
    void prepare() throws Exception {
        var generated = new CertificateDirectory(dir.resolve("ca"), Clock.systemUTC());
        generated.ensure(IDENTITY);
        ca = new CertificateAuthority(
                Pem.decodeCertificates(Files.readString(generated.caCertificate()))
                        .getFirst(),
                Pem.decodePrivateKey(Files.readString(dir.resolve("ca").resolve(CertificateDirectory.CA_KEY))));
        volume = new SecretVolume(Files.createDirectory(dir.resolve("tls")));
    }

    void start(IssuedCertificate first, Duration expiryMargin) throws Exception {
        volume.publish(first);
        metrics = new AdmissionMetrics();
        var service = Rulebook.service(
                TestCluster.with(),
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                metrics,
                () -> Policy.DEFAULT);
        vertx = Vertx.vertx();
        server = new AdmissionServer(
                vertx,
                new ServerSettings("127.0.0.1", 0, volume.certificate(), volume.key(), CHECK, null)
                        .withCertificateExpiryMargin(expiryMargin),
                service,
                metrics,
                () -> true,
                "");
        server.start().await();
    }

    @AfterEach
    void stop() {
        if (server != null) server.stop().await();
        if (vertx != null) vertx.close().await();
    }

    IssuedCertificate issued(Instant now, Duration validity) {
        return ca.issueServing(IDENTITY, validity, Clock.fixed(now, ZoneOffset.UTC));
    }

    IssuedCertificate valid() {
        return issued(Instant.now(), Duration.ofDays(30));
    }

    @Test
    void anExpiredOrNotYetValidCertificateIsRefusedOnceAndTheOneInUseKept() throws Exception {
        IssuedCertificate inUse = valid();
        start(inUse, ServerSettings.DEFAULT_EXPIRY_MARGIN);
        assertEquals(inUse.certificate().getSerialNumber(), presented());
        assertEquals(inUse.certificate().getNotAfter().toInstant().getEpochSecond(), (long)
                metric("lockkeeper_serving_certificate_not_after_seconds"));

        IssuedCertificate expired = issued(Instant.now().minus(Duration.ofDays(2)), Duration.ofDays(1));
        volume.publish(expired);
        awaitTrue(() -> metric("lockkeeper_serving_certificate_refused_total{reason=\"expired\"}") == 1);
        Thread.sleep(5 * CHECK.toMillis()); // several more looks at the same files
        assertEquals(
                1.0,
                metric("lockkeeper_serving_certificate_refused_total{reason=\"expired\"}"),
                "counted once, not per look");
        assertEquals(inUse.certificate().getSerialNumber(), presented());
        Readiness expiredNote = readyz();
        assertEquals(200, expiredNote.status(), "the certificate in use is still valid");
        assertTrue(
                expiredNote.body().startsWith("ok; serving certificate " + volume.certificate() + " is expired at "),
                expiredNote.body());

        IssuedCertificate early = issued(Instant.now().plus(Duration.ofDays(1)), Duration.ofDays(30));
        volume.publish(early);
        awaitTrue(() -> metric("lockkeeper_serving_certificate_refused_total{reason=\"not-yet-valid\"}") == 1);
        assertEquals(inUse.certificate().getSerialNumber(), presented());
        assertTrue(readyz().body().contains(" is not valid before "), readyz().body());

        IssuedCertificate next = valid();
        volume.publish(next);
        awaitTrue(() -> next.certificate().getSerialNumber().equals(presented()));
        assertEquals(new Readiness(200, "ok"), readyz(), "the refusal is cleared once a valid pair is in use");
        assertEquals(next.certificate().getNotAfter().toInstant().getEpochSecond(), (long)
                metric("lockkeeper_serving_certificate_not_after_seconds"));
    }

    @Test
    void aFifoAtTheCertificatePathIsRefusedAndDoesNotBlockTheNextRotation() throws Exception {
        IssuedCertificate inUse = valid();
        start(inUse, ServerSettings.DEFAULT_EXPIRY_MARGIN);
        volume.publishFifo();
        awaitTrue(() -> metric("lockkeeper_serving_certificate_refused_total{reason=\"not-regular-file\"}") == 1);
        assertEquals(inUse.certificate().getSerialNumber(), presented());
        assertTrue(readyz().body().contains("is not a regular file"), readyz().body());

        // Opening the FIFO would have parked the (ordered) blocking task forever, and every later look behind it.
        IssuedCertificate next = valid();
        volume.publish(next);
        awaitTrue(() -> next.certificate().getSerialNumber().equals(presented()));
    }

    @Test
    void aCertificateFileAboveTheCapIsNotReadEvenWhenItWouldParse() throws Exception {
        IssuedCertificate inUse = valid();
        start(inUse, ServerSettings.DEFAULT_EXPIRY_MARGIN);
        IssuedCertificate padded = valid();
        // A valid PEM block followed by text PEM parsers skip: without the cap this pair would be installed.
        String pem =
                Pem.encodeCertificate(padded.certificate()) + "padding\n".repeat(ServingCertificate.MAX_FILE_BYTES / 8);
        volume.publish(pem, Pem.encodePrivateKey(padded.privateKey()));
        awaitTrue(() -> metric("lockkeeper_serving_certificate_refused_total{reason=\"too-large\"}") == 1);
        Thread.sleep(5 * CHECK.toMillis());
        assertEquals(inUse.certificate().getSerialNumber(), presented());
        assertTrue(readyz().body().contains("more than the 262144 a certificate file may have"), readyz().body());
    }

    @Test
    void startingOnAnExpiredCertificateServesButIsNotReadyUntilAValidOneAppears() throws Exception {
        IssuedCertificate expired = issued(Instant.now().minus(Duration.ofDays(2)), Duration.ofDays(1));
        start(expired, ServerSettings.DEFAULT_EXPIRY_MARGIN);
        Readiness notReady = readyz();
        assertEquals(503, notReady.status());
        assertTrue(notReady.body().contains("the serving certificate in use is expired at "), notReady.body());

        IssuedCertificate next = valid();
        volume.publish(next);
        awaitTrue(() -> next.certificate().getSerialNumber().equals(presented()));
        assertEquals(new Readiness(200, "ok"), readyz());
    }

    @Test
    void aCertificateInUseThatExpiresWithinTheMarginMakesTheServerUnready() throws Exception {
        IssuedCertificate closeToExpiry = issued(Instant.now(), Duration.ofMinutes(2));
        start(closeToExpiry, Duration.ofMinutes(5));
        Readiness notReady = readyz();
        assertEquals(503, notReady.status());
        assertTrue(
                notReady.body()
                        .contains("expires at "
                                + closeToExpiry.certificate().getNotAfter().toInstant() + ", within 5 min"),
                notReady.body());

        volume.publish(valid());
        awaitTrue(() -> readyz().status() == 200);
    }

    // --- helpers -------------------------------------------------------------------------------------

    record Readiness(int status, String body) {}

    /** A Secret volume's layout: tls.crt → ..data/tls.crt, ..data → ..N, and ..data swapped in one rename. */
    static final class SecretVolume {
        final Path root;
        int generation;

        SecretVolume(Path root) throws IOException {
            this.root = root;
            Files.createSymbolicLink(root.resolve("tls.crt"), Path.of("..data/tls.crt"));
            Files.createSymbolicLink(root.resolve("tls.key"), Path.of("..data/tls.key"));
        }

        Path certificate() {
            return root.resolve("tls.crt");
        }

        Path key() {
            return root.resolve("tls.key");
        }

        void publish(IssuedCertificate pair) throws IOException {
            publish(Pem.encodeCertificate(pair.certificate()), Pem.encodePrivateKey(pair.privateKey()));
        }

        void publish(String certificatePem, String keyPem) throws IOException {
            Path next = Files.createDirectory(root.resolve(".." + ++generation));
            Files.writeString(next.resolve("tls.crt"), certificatePem);
            Files.writeString(next.resolve("tls.key"), keyPem);
            swap(next);
        }

        void publishFifo() throws Exception {
            Path next = Files.createDirectory(root.resolve(".." + ++generation));
            assertEquals(
                    0,
                    new ProcessBuilder("mkfifo", next.resolve("tls.crt").toString())
                            .inheritIO()
                            .start()
                            .waitFor());
            Files.copy(root.resolve("..data").resolve("tls.key"), next.resolve("tls.key"));
            swap(next);
        }

        private void swap(Path next) throws IOException {
            Path link = root.resolve("..data_tmp");
            Files.createSymbolicLink(link, next.getFileName());
            Files.move(
                    link, root.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The serial number of the certificate the server presents in a handshake (trusting anything: it may be expired). */
    BigInteger presented() throws Exception {
        try (SSLSocket socket = trustingAnything()) {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    Readiness readyz() throws Exception {
        return get("/readyz");
    }

    double metric(String series) throws Exception {
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1));
        }
        return 0;
    }

    Readiness get(String path) throws Exception {
        try (SSLSocket socket = trustingAnything()) {
            socket.getOutputStream()
                    .write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int bodyAt = response.indexOf("\r\n\r\n");
            return new Readiness(Integer.parseInt(response.split(" ")[1]), response.substring(bodyAt + 4));
        }
    }

    SSLSocket trustingAnything() throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(
                null,
                new TrustManager[] {
                    new X509TrustManager() {
                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                        @Override
                        public X509Certificate[] getAcceptedIssuers() {
                            return new X509Certificate[0];
                        }
                    }
                },
                new SecureRandom());
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", server.actualPort());
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void awaitTrue(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) fail("condition not reached within 20 s");
            Thread.sleep(50);
        }
    }
}
