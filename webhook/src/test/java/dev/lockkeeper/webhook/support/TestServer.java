package dev.lockkeeper.webhook.support;

import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.http.AdmissionServer;
import dev.lockkeeper.webhook.http.ServerSettings;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A real HTTPS admission server over a test cluster, with a client that trusts it and raw-socket helpers. */
public final class TestServer implements AutoCloseable {
    public final AdmissionMetrics metrics = new AdmissionMetrics();
    public final Path caCertificate;
    private final Vertx vertx = Vertx.vertx();
    private final AdmissionServer server;
    private final SSLContext tls;
    private final HttpClient http;

    public TestServer(Path certDir, TestCluster cluster, UnaryOperator<ServerSettings> settings) throws Exception {
        var certs = new CertificateDirectory(certDir, Clock.systemUTC());
        certs.ensure(new ServingIdentity("lockkeeper-webhook", "lockkeeper"));
        caCertificate = certs.caCertificate();
        var service = Rulebook.service(
                cluster,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                metrics,
                () -> Policy.DEFAULT);
        server = new AdmissionServer(
                vertx,
                settings.apply(new ServerSettings(
                        "127.0.0.1", 0, certs.certificate(), certs.privateKey(), Duration.ofSeconds(1), null)),
                service,
                metrics,
                () -> true,
                "");
        server.start().await();
        tls = Tls.trusting(caCertificate);
        // generous: a loaded CI machine can take seconds for a TLS connect, and the connect is not what any test
        // measures
        http = HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    public int port() {
        return server.actualPort();
    }

    public HttpResponse<String> post(String path, byte[] body) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + port() + path))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + port() + path))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A TLS socket with the handshake done, for requests no well-behaved client would send. */
    public SSLSocket socket() throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port());
        socket.setSoTimeout(30_000);
        socket.startHandshake();
        return socket;
    }

    /** Writes the head of a POST declaring {@code contentLength} bytes and the first {@code start} of the body. */
    public static void startPost(SSLSocket socket, String path, long contentLength, String start) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                        + contentLength + "\r\n\r\n" + start)
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The status code of the next response on {@code socket}; its headers and body are skipped. */
    public static int readStatus(SSLSocket socket) throws IOException {
        InputStream in = socket.getInputStream();
        String statusLine = readLine(in);
        int length = 0;
        for (String header = readLine(in); !header.isEmpty(); header = readLine(in)) {
            if (header.regionMatches(true, 0, "Content-Length:", 0, 15))
                length = Integer.parseInt(header.substring(15).strip());
        }
        in.readNBytes(length);
        return Integer.parseInt(statusLine.split(" ")[1]);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) throw new IOException("connection closed after \"" + line + "\"");
            if (c != '\r') line.append((char) c);
        }
        return line.toString();
    }

    @Override
    public void close() {
        server.stop().await();
        vertx.close().await();
    }
}
