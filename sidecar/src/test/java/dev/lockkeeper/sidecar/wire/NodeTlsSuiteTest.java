package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.Socket;
import java.nio.file.Path;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data port negotiates TLS 1.3 with AES-128-GCM, its own preference, whatever order the client offers. */
class NodeTlsSuiteTest {
    @TempDir
    Path dir;

    @Test
    void theServerPicksAes128GcmEvenForAClientThatPrefersAes256() throws Exception {
        try (WireNodes nodes = new WireNodes(dir)) {
            NodeTls client = NodeTls.load(nodes.identities.node("dst"));
            SSLParameters parameters = client.clientParameters();
            // the JDK's own order: AES-256 first
            parameters.setCipherSuites(
                    new String[] {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"});
            Socket raw =
                    new Socket(nodes.address().getAddress(), nodes.address().getPort());
            try (SSLSocket socket = (SSLSocket) client.context()
                    .getSocketFactory()
                    .createSocket(raw, "localhost", nodes.address().getPort(), true)) {
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                assertEquals("TLSv1.3", socket.getSession().getProtocol());
                assertEquals("TLS_AES_128_GCM_SHA256", socket.getSession().getCipherSuite());
            }
        }
    }
}
