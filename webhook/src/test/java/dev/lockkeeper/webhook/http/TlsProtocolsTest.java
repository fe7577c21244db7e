package dev.lockkeeper.webhook.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.webhook.support.TestCluster;
import dev.lockkeeper.webhook.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the serving TLS offers, asked by a client that is not a JVM: OpenSSL's {@code s_client} (the JDK's own
 * client would refuse the weak offers itself and prove nothing about the server).
 */
class TlsProtocolsTest {
    @TempDir
    Path dir;

    private TestServer server;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs /usr/bin/openssl");
        server = new TestServer(dir.resolve("certs"), TestCluster.with(), settings -> settings);
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    @Test
    void tls12OffersOnlyForwardSecretAeadSuites() throws Exception {
        String gcm = sClient("", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        assertTrue(gcm.contains("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"), gcm);
        for (String weak :
                List.of("ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384")) {
            String answer = sClient("", "-tls1_2", "-cipher", weak);
            assertTrue(
                    answer.contains("alert handshake failure") && answer.contains("Cipher is (NONE)"),
                    weak + ": " + answer);
        }
    }

    @Test
    void tls13IsOffered() throws Exception {
        String answer = sClient("", "-tls1_3");
        assertTrue(answer.contains("New, TLSv1.3, Cipher is TLS_AES"), answer);
    }

    @Test
    void aClientCannotRenegotiateTls12() throws Exception {
        String answer = sClient("R\n", "-tls1_2");
        assertTrue(answer.contains("RENEGOTIATING"), answer);
        assertTrue(
                answer.contains("alert handshake failure"), "a renegotiation the client starts is refused: " + answer);
        assertEquals(200, server.get("/healthz").statusCode(), "and the server goes on serving");
    }

    /** Runs {@code openssl s_client} against the server, writes {@code input}, and returns all it printed. */
    private String sClient(String input, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                "/usr/bin/openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + server.port(),
                "-servername",
                "localhost",
                "-CAfile",
                server.caCertificate.toString()));
        command.addAll(List.of(options));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            // s_client acts on a line ("R": renegotiate) as it reads it; give the exchange time before EOF ends the
            // session
            TimeUnit.MILLISECONDS.sleep(input.isEmpty() ? 0 : 1500);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        process.getInputStream().transferTo(out);
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly();
        return out.toString(StandardCharsets.UTF_8);
    }
}
