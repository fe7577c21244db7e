package dev.lockkeeper.sidecar.wire;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * This node's identity on the data port: its certificate ({@code tls.crt}, naming the node by the SAN URI
 * {@code spiffe://lockkeeper.dev/node/<node>}), its key ({@code tls.key}, PKCS#8 PEM, ECDSA P-256) and the agent CA
 * ({@code ca.crt}), the only issuer trusted for peers. Plain JDK: the sidecar carries no BouncyCastle. Sessions are
 * TLS 1.3 only, and the server side requires a client certificate; a peer's node is read from its verified certificate.
 */
public final class NodeTls {
    static final String URI_PREFIX = "spiffe://lockkeeper.dev/node/";
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    private static final int URI_NAME = 6;
    private static final Pattern PRIVATE_KEY = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private final String node;
    private final SSLContext context;

    private NodeTls(String node, SSLContext context) {
        this.node = node;
        this.context = context;
    }

    public static NodeTls load(Path dir) throws IOException {
        List<X509Certificate> chain = certificates(dir.resolve("tls.crt"));
        List<X509Certificate> authorities = certificates(dir.resolve("ca.crt"));
        PrivateKey key = privateKey(dir.resolve("tls.key"));
        String node = nodeOf(chain.getFirst()).orElseThrow(() -> new IOException(dir.resolve("tls.crt")
                + " names no node: a node certificate carries exactly one SAN URI " + URI_PREFIX + "<node>"));
        try {
            KeyStore identity = KeyStore.getInstance("PKCS12");
            identity.load(null, null);
            char[] password = new char[0];
            identity.setKeyEntry("node", key, password, chain.toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
            keys.init(identity, password);
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            for (int i = 0; i < authorities.size(); i++) trusted.setCertificateEntry("ca-" + i, authorities.get(i));
            TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
            return new NodeTls(node, context);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a TLS context from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The node this certificate names. */
    public String node() {
        return node;
    }

    SSLParameters serverParameters() {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setNeedClientAuth(true);
        return parameters;
    }

    SSLParameters clientParameters() {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        return parameters;
    }

    SSLContext context() {
        return context;
    }

    /** The node named by the peer's verified certificate on a connection whose handshake finished. */
    static Optional<String> peerNode(SSLSocket socket) {
        SSLSession session = socket.getSession();
        try {
            Certificate[] peer = session.getPeerCertificates();
            return peer.length > 0 && peer[0] instanceof X509Certificate x509 ? nodeOf(x509) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    static Optional<String> nodeOf(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names == null) return Optional.empty();
            List<String> nodes = names.stream()
                    .filter(n -> (Integer) n.get(0) == URI_NAME && String.valueOf(n.get(1)).startsWith(URI_PREFIX))
                    .map(n -> String.valueOf(n.get(1)).substring(URI_PREFIX.length())).toList();
            return nodes.size() == 1 ? Optional.of(nodes.getFirst()) : Optional.empty();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }

    private static List<X509Certificate> certificates(Path file) throws IOException {
        try {
            List<X509Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certificates.isEmpty()) throw new IOException(file + " holds no certificate");
            return certificates;
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException {
        Matcher pem = PRIVATE_KEY.matcher(Files.readString(file, StandardCharsets.US_ASCII));
        if (!pem.find()) throw new IOException(file + " holds no PKCS#8 key (-----BEGIN PRIVATE KEY-----)");
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.group(1));
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + " is not an ECDSA PKCS#8 key: " + e.getMessage(), e);
        }
    }
}
