package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's certificate renewed on disk is used for new connections without a restart; a rotation that would not
 * make a usable identity (unreadable, expired, a key that is not the certificate's, another node) is logged once and
 * the identity in use stays.
 */
class NodeTlsReloadTest {
    private static final Duration RECHECK = Duration.ofMillis(50);

    @TempDir
    Path dir;

    private NodeIdentities identities;
    private Path srcDir;
    private DataServer server;
    private NodeTls client;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Logger log = Logger.getLogger(NodeTls.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
                warnings.add(record.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void start() throws IOException {
        identities = new NodeIdentities(dir.resolve("pki"));
        srcDir = identities.node("src");
        Path image = Images.sparse(dir.resolve("source.img"), 1 << 20, 0, 64 << 10);
        server = DataServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                NodeTls.load(srcDir, Clock.systemUTC(), RECHECK),
                (task, caller) -> new ServedSource(task, image, Content.KUBEVIRT),
                RateLimiter.UNLIMITED);
        client = NodeTls.load(identities.node("dst"));
        log.addHandler(capture);
    }

    @AfterEach
    void stop() throws IOException {
        log.removeHandler(capture);
        server.close();
    }

    /** The serial number of the certificate the data port presents to a new connection. */
    private BigInteger presented() throws Exception {
        Thread.sleep(RECHECK.toMillis() * 3);
        try (SSLSocket socket = (SSLSocket)
                client.context().getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.port())) {
            socket.setSSLParameters(client.clientParameters());
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    private void pullsStillWork() throws Exception {
        Path target = dir.resolve("target-" + System.nanoTime() + ".img");
        new TlsPuller(client)
                .pull(
                        WireNodes.request(
                                "t",
                                new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()),
                                target,
                                Content.KUBEVIRT),
                        new MemoryCheckpoints(),
                        new TransferProgress() {
                            @Override
                            public void update(long done, long total, long dataBytes, long holeBytes) {}

                            @Override
                            public void verifying() {}
                        },
                        () -> false);
        assertEquals(1 << 20, Files.size(target));
    }

    @Test
    void aRenewedCertificateIsUsedForNewConnectionsWithoutARestart() throws Exception {
        BigInteger before = presented();
        identities.reissue("src", Clock.systemUTC());
        BigInteger after = presented();
        assertNotEquals(before, after, "the renewed certificate is presented");
        assertEquals(after, presented());
        pullsStillWork();
        assertEquals(List.of(), warnings);
    }

    @Test
    void anUnreadableCertificateKeepsTheOneInUseAndIsReportedOnce() throws Exception {
        BigInteger before = presented();
        Files.writeString(
                srcDir.resolve("tls.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        assertEquals(before, presented());
        assertEquals(before, presented());
        pullsStillWork();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(
                warnings.getFirst()
                        .startsWith("keeping the node certificate in use: " + srcDir.resolve("tls.crt")
                                + " is not a PEM certificate"),
                warnings.toString());
    }

    @Test
    void anExpiredCertificateKeepsTheOneInUse() throws Exception {
        BigInteger before = presented();
        identities.reissue("src", Clock.offset(Clock.systemUTC(), Duration.ofDays(-3)));
        assertEquals(before, presented());
        pullsStillWork();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(
                warnings.getFirst().contains("tls.crt is valid from ")
                        && warnings.getFirst().endsWith(", not now"),
                warnings.toString());
    }

    @Test
    void aKeyThatIsNotTheCertificatesKeepsTheOneInUse() throws Exception {
        BigInteger before = presented();
        Files.copy(
                identities.node("other").resolve("tls.key"),
                srcDir.resolve("tls.key"),
                StandardCopyOption.REPLACE_EXISTING);
        assertEquals(before, presented());
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals(
                "keeping the node certificate in use: " + srcDir.resolve("tls.key") + " is not the key of "
                        + srcDir.resolve("tls.crt"),
                warnings.getFirst());
    }

    @Test
    void aCertificateForAnotherNodeKeepsTheOneInUse() throws Exception {
        BigInteger before = presented();
        Path other = identities.node("other");
        for (String file : List.of("tls.key", "tls.crt")) {
            Files.copy(other.resolve(file), srcDir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        assertEquals(before, presented());
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals(
                "keeping the node certificate in use: " + srcDir.resolve("tls.crt") + " now names node other, not src",
                warnings.getFirst());
    }
}
