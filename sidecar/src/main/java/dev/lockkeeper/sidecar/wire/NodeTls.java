package dev.lockkeeper.sidecar.wire;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

/**
 * This node's identity on the data port: its certificate ({@code tls.crt}, naming the node by the SAN URI
 * {@code spiffe://lockkeeper.dev/node/<node>}), its key ({@code tls.key}, PKCS#8 PEM, ECDSA P-256) and the agent CA
 * ({@code ca.crt}), the only issuer trusted for peers. Plain JDK: the sidecar carries no BouncyCastle. Sessions are
 * TLS 1.3 only, and the server side requires a client certificate; a peer's node is read from its verified certificate.
 */
public final class NodeTls {
    static final String URI_PREFIX = "spiffe://lockkeeper.dev/node/";
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    /**
     * TLS 1.3's three suites, AES-128-GCM first (the server's order decides): the JDK's default puts AES-256 first,
     * which costs 14 AES rounds per block instead of 10, and on this VM (no AVX-512, so no fused AES-GCM stub) that
     * was a fifth of the CPU both agents spend per byte; AES-128-GCM is the suite every TLS 1.3 peer must implement.
     */
    static final String[] CIPHER_SUITES = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"
    };

    private static final int URI_NAME = 6;
    private static final Pattern PRIVATE_KEY =
            Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private static final Logger LOG = System.getLogger(NodeTls.class.getName());
    private static final String[] FILES = {"tls.crt", "tls.key", "ca.crt"};
    /** How often a new connection may look at the files again: a rotation is seen within this, and no faster. */
    private static final Duration RECHECK = Duration.ofSeconds(1);

    private final long recheckNanos;

    /** The identity in use, and the bytes of the three files it was built from. */
    private record Loaded(String node, SSLContext context, List<byte[]> files) {}

    private final Path dir;
    private final Clock clock;
    private volatile Loaded current;
    /** The files of the last rotation that was refused, so that it is reported once, not on every connection. */
    private volatile List<byte[]> refused = List.of();

    private volatile long lastCheckNanos = System.nanoTime();

    private NodeTls(Path dir, Clock clock, Duration recheck, Loaded loaded) {
        this.dir = dir;
        this.recheckNanos = recheck.toNanos();
        this.clock = clock;
        this.current = loaded;
    }

    /**
     * Loads the identity in {@code dir}. New connections pick up renewed files there (checked at most once a second):
     * a rotated certificate, key and CA are used from then on without a restart; a rotation that does not make a
     * usable identity for the same node (unreadable, a key that is not the certificate's, a certificate not valid now,
     * another node) is logged and the identity in use stays.
     */
    public static NodeTls load(Path dir) throws IOException {
        return load(dir, Clock.systemUTC(), RECHECK);
    }

    static NodeTls load(Path dir, Clock clock, Duration recheck) throws IOException {
        List<byte[]> files = read(dir);
        return new NodeTls(dir, clock, recheck, build(dir, files, clock, null));
    }

    private static List<byte[]> read(Path dir) throws IOException {
        List<byte[]> files = new ArrayList<>();
        for (String name : FILES) files.add(Files.readAllBytes(dir.resolve(name)));
        return files;
    }

    private static Loaded build(Path dir, List<byte[]> files, Clock clock, String expectedNode) throws IOException {
        List<X509Certificate> chain = certificates(dir.resolve("tls.crt"), files.get(0));
        List<X509Certificate> authorities = certificates(dir.resolve("ca.crt"), files.get(2));
        PrivateKey key = privateKey(dir.resolve("tls.key"), files.get(1));
        String node = nodeOf(chain.getFirst())
                .orElseThrow(() -> new IOException(dir.resolve("tls.crt")
                        + " names no node: a node certificate carries exactly one SAN URI " + URI_PREFIX + "<node>"));
        if (expectedNode != null) {
            if (!node.equals(expectedNode))
                throw new IOException(dir.resolve("tls.crt") + " now names node " + node + ", not " + expectedNode);
            checkValidNow(dir, chain.getFirst(), clock);
            checkPair(dir, chain.getFirst(), key);
        }
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
            return new Loaded(node, context, files);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a TLS context from " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void checkValidNow(Path dir, X509Certificate certificate, Clock clock) throws IOException {
        try {
            certificate.checkValidity(Date.from(clock.instant()));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new IOException(dir.resolve("tls.crt") + " is valid from "
                    + certificate.getNotBefore().toInstant() + " to "
                    + certificate.getNotAfter().toInstant() + ", not now");
        }
    }

    /** A key written before its certificate (or the other way round) would fail every handshake: sign and verify once. */
    private static void checkPair(Path dir, X509Certificate certificate, PrivateKey key) throws IOException {
        try {
            byte[] probe = "lockkeeper node key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature))
                throw new IOException(dir.resolve("tls.key") + " is not the key of " + dir.resolve("tls.crt"));
        } catch (GeneralSecurityException e) {
            throw new IOException(
                    dir.resolve("tls.key") + " does not go with " + dir.resolve("tls.crt") + ": " + e.getMessage(), e);
        }
    }

    /** The identity for a new connection: the files are looked at again when a second has passed since the last look. */
    private Loaded current() {
        long now = System.nanoTime();
        if (now - lastCheckNanos < recheckNanos) return current;
        synchronized (this) {
            if (now - lastCheckNanos < recheckNanos) return current;
            lastCheckNanos = now;
            Loaded inUse = current;
            List<byte[]> files;
            try {
                files = read(dir);
            } catch (IOException e) {
                refuse(List.of(), "cannot read the rotated node certificate in " + dir + " (" + e.getMessage() + ")");
                return inUse;
            }
            if (same(files, inUse.files()) || same(files, refused)) return inUse;
            try {
                current = build(dir, files, clock, inUse.node());
                refused = List.of();
                LOG.log(Level.INFO, "node certificate in " + dir + " renewed; new connections use it");
            } catch (IOException e) {
                refuse(files, e.getMessage());
            }
            return current;
        }
    }

    private void refuse(List<byte[]> files, String why) {
        if (!files.isEmpty() && same(files, refused)) return;
        refused = files;
        LOG.log(Level.WARNING, "keeping the node certificate in use: " + why);
    }

    private static boolean same(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) if (!Arrays.equals(a.get(i), b.get(i))) return false;
        return true;
    }

    /** The node this certificate names. */
    public String node() {
        return current.node();
    }

    SSLParameters serverParameters() {
        SSLParameters parameters = current.context().getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setCipherSuites(CIPHER_SUITES);
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(true);
        return parameters;
    }

    SSLParameters clientParameters() {
        SSLParameters parameters = current.context().getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setCipherSuites(CIPHER_SUITES);
        return parameters;
    }

    /** The context for a new connection (a renewed identity once its files are rotated). */
    SSLContext context() {
        return current().context();
    }

    /** The node named by the peer's verified certificate on a connection whose handshake finished. */
    static Optional<String> peerNode(SSLSession session) {
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
                    .filter(n -> (Integer) n.get(0) == URI_NAME
                            && String.valueOf(n.get(1)).startsWith(URI_PREFIX))
                    .map(n -> String.valueOf(n.get(1)).substring(URI_PREFIX.length()))
                    .toList();
            return nodes.size() == 1 ? Optional.of(nodes.getFirst()) : Optional.empty();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }

    private static List<X509Certificate> certificates(Path file, byte[] pem) throws IOException {
        try {
            List<X509Certificate> certificates =
                    CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)).stream()
                            .map(X509Certificate.class::cast)
                            .toList();
            if (certificates.isEmpty()) throw new IOException(file + " holds no certificate");
            return certificates;
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file, byte[] bytes) throws IOException {
        Matcher pem = PRIVATE_KEY.matcher(new String(bytes, StandardCharsets.US_ASCII));
        if (!pem.find()) throw new IOException(file + " holds no PKCS#8 key (-----BEGIN PRIVATE KEY-----)");
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.group(1));
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + " is not an ECDSA PKCS#8 key: " + e.getMessage(), e);
        }
    }
}
