package dev.lockkeeper.controller.agent;

import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.Pem;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The agent's side of its node certificate, without I/O: whether the files in its TLS directory still make a current
 * identity for this node, the certificate request it sends, and whether what the signer answered may be installed.
 *
 * <p><b>Where the agent CA comes from.</b> The controller publishes the agent CA's certificate in the ConfigMap
 * {@value #CA_CONFIG_MAP} (key {@value #CA_BUNDLE_KEY}) of the installation namespace, as kube-controller-manager
 * publishes the cluster CA in every namespace's {@code kube-root-ca.crt}; the agent reads it through the API (one named
 * ConfigMap) and writes it as {@code ca.crt}. It is not appended to {@code status.certificate}: the CSR API defines
 * every block after the first there as an intermediate the holder presents in its handshakes, not as a trust anchor,
 * and a CA that arrived in the same answer as the certificate could not be checked against anything. With the CA
 * from its own source, a certificate in the answer that the agent CA did not sign is refused.
 */
public final class AgentCertificates {
    public static final String CA_CONFIG_MAP = "lockkeeper-agent-ca";
    public static final String CA_BUNDLE_KEY = "ca.crt";
    /** What the issued certificate carries (AgentCsrApproval accepts these): ECDSA, so no key encipherment. */
    public static final List<String> USAGES = List.of("digital signature", "server auth", "client auth");

    static final int MAX_PEM = 64 * 1024;
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1", CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final int MAX_NAME = 253;

    private AgentCertificates() {}

    /** The TLS directory's certificate and key as read; a missing file is null. */
    public record TlsFiles(String certificate, String key) {}

    /** Whether the agent must ask for a certificate now. */
    public sealed interface Need {
        /** The files are a good identity for this node until {@code renewAt}. */
        record Current(Instant renewAt) implements Need {}

        record Request(String why) implements Need {}
    }

    /** A signer's answer, or the published CA, that must not be installed. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * Current when the certificate names exactly this node, chains to one of {@code authorities}, is valid now and
     * not yet due for renewal, and {@code tls.key} is its key.
     */
    public static Need need(TlsFiles files, String node, List<X509Certificate> authorities, Instant now) {
        if (files.certificate() == null || files.key() == null) return new Need.Request("no certificate yet");
        X509Certificate certificate;
        PrivateKey key;
        try {
            certificate = Pem.decodeCertificates(files.certificate()).getFirst();
            key = Pem.decodePrivateKey(files.key());
        } catch (Pem.PemException e) {
            return new Need.Request("the files are unreadable (" + e.getMessage() + ")");
        }
        Optional<String> named = NodeCertificates.nodeOf(certificate);
        if (!named.equals(Optional.of(node)))
            return new Need.Request(
                    "the certificate names " + named.map(n -> "node " + n).orElse("no node"));
        try {
            verifyChain(certificate, authorities, now);
        } catch (Refused e) {
            return new Need.Request(e.getMessage());
        }
        if (!pairs(certificate, key)) return new Need.Request("tls.key is not the certificate's key");
        Instant renewAt = renewAt(certificate);
        if (!now.isBefore(renewAt)) return new Need.Request("the certificate is due for renewal since " + renewAt);
        return new Need.Current(renewAt);
    }

    /**
     * {@link NodeCertificates#RENEW_AFTER} after it was issued, or two thirds of its lifetime when the signer issued a
     * shorter one, so a short certificate is still renewed well before it expires.
     */
    public static Instant renewAt(X509Certificate certificate) {
        Instant from = certificate.getNotBefore().toInstant();
        Duration lifetime = Duration.between(from, certificate.getNotAfter().toInstant());
        Duration twoThirds = lifetime.multipliedBy(2).dividedBy(3);
        return from.plus(
                twoThirds.compareTo(NodeCertificates.RENEW_AFTER) < 0 ? twoThirds : NodeCertificates.RENEW_AFTER);
    }

    /** The PEM PKCS#10 request: subject {@code CN=node:<node>}, one SAN, the node URI, signed with the new key. */
    public static String request(String node, KeyPair keys) {
        String uri = NodeCertificates.uriOf(node);
        try {
            var extensions = new ExtensionsGenerator();
            extensions.addExtension(
                    Extension.subjectAlternativeName,
                    true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
            var csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=node:" + node), keys.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            StringWriter pem = new StringWriter();
            try (var writer = new JcaPEMWriter(pem)) {
                writer.writeObject(csr);
            }
            return pem.toString();
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("could not build the certificate request", e);
        }
    }

    /**
     * The CSR object's name: the node (for {@code kubectl get csr}) and a digest of the key, node and usages, as the
     * kubelet's bootstrap names its request ({@code digestedName} in kubelet/certificate/bootstrap/bootstrap.go). The
     * key is kept on disk until the request is answered, so an agent restarted while it waits finds its own request
     * again instead of adding one.
     */
    public static String requestName(String node, PublicKey key) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(key.getEncoded());
            digest.update(("\0" + node + "\0" + String.join(",", USAGES)).getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(digest.digest(), 0, 10);
            String name = "lockkeeper-agent-" + node + "-" + hash;
            return name.length() <= MAX_NAME ? name : "lockkeeper-agent-" + hash;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether a request found under our name ({@code spec.request}, base64 of PEM) asks for our key: the PEM itself
     * differs on every signing (ECDSA signatures are randomized), the key it names does not.
     */
    public static boolean requestsKey(String request, PublicKey key) {
        if (request == null || request.length() > MAX_PEM) return false;
        try (var parser = new PEMParser(
                new StringReader(new String(Base64.getDecoder().decode(request), StandardCharsets.US_ASCII)))) {
            return parser.readObject() instanceof PKCS10CertificationRequest csr
                    && Arrays.equals(csr.getSubjectPublicKeyInfo().getEncoded(), key.getEncoded());
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The published CA bundle: PEM certificates, each a CA; what is trusted for the signer and for peers. */
    public static List<X509Certificate> authorities(String bundle) throws Refused {
        if (bundle == null || bundle.isBlank())
            throw new Refused("ConfigMap " + CA_CONFIG_MAP + " has no " + CA_BUNDLE_KEY);
        if (bundle.length() > MAX_PEM) throw new Refused(CA_CONFIG_MAP + " is larger than 64 KiB");
        List<X509Certificate> certificates;
        try {
            certificates = Pem.decodeCertificates(bundle);
        } catch (Pem.PemException e) {
            throw new Refused(CA_CONFIG_MAP + " holds no PEM certificate: " + e.getMessage());
        }
        for (X509Certificate certificate : certificates) {
            if (certificate.getBasicConstraints() < 0)
                throw new Refused(CA_CONFIG_MAP + " holds " + certificate.getSubjectX500Principal() + ", not a CA");
        }
        return certificates;
    }

    /**
     * The certificate the signer put in {@code status.certificate} (base64 of PEM, as the API carries it), accepted
     * only when it is for our key, names exactly this node, serves both ends of a session, is valid now and chains to
     * the published agent CA. Blocks after the first are ignored: the agent CA signs node certificates directly.
     */
    public static X509Certificate accept(
            String statusCertificate, PublicKey ours, String node, List<X509Certificate> authorities, Instant now)
            throws Refused {
        if (statusCertificate.length() > MAX_PEM) throw new Refused("the issued certificate is larger than 64 KiB");
        X509Certificate certificate;
        try {
            String pem = new String(Base64.getDecoder().decode(statusCertificate), StandardCharsets.US_ASCII);
            certificate = Pem.decodeCertificates(pem).getFirst();
        } catch (IllegalArgumentException e) {
            throw new Refused("status.certificate is not base64");
        } catch (Pem.PemException e) {
            throw new Refused("status.certificate holds no PEM certificate: " + e.getMessage());
        }
        if (!Arrays.equals(certificate.getPublicKey().getEncoded(), ours.getEncoded()))
            throw new Refused("the issued certificate is not for the key this agent sent");
        Optional<String> named = NodeCertificates.nodeOf(certificate);
        if (!named.equals(Optional.of(node))) {
            throw new Refused("the issued certificate names "
                    + named.map(n -> "node " + n).orElse("no node") + ", not node " + node);
        }
        try {
            List<String> purposes = certificate.getExtendedKeyUsage();
            if (purposes == null || !purposes.containsAll(List.of(SERVER_AUTH, CLIENT_AUTH)))
                throw new Refused("the issued certificate is not for both server and client auth");
        } catch (java.security.cert.CertificateParsingException e) {
            throw new Refused("the issued certificate's extended key usage is unreadable");
        }
        verifyChain(certificate, authorities, now);
        return certificate;
    }

    /** PKIX path validation (the JDK's CertPathValidator) from {@code certificate} to one of {@code authorities}. */
    static void verifyChain(X509Certificate certificate, List<X509Certificate> authorities, Instant now)
            throws Refused {
        try {
            Set<TrustAnchor> anchors =
                    authorities.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX")
                    .validate(
                            CertificateFactory.getInstance("X.509").generateCertPath(List.of(certificate)), parameters);
        } catch (CertPathValidatorException e) {
            throw new Refused("the certificate does not chain to the agent CA " + CA_CONFIG_MAP + " at " + now + ": "
                    + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new Refused("the certificate cannot be checked against the agent CA: " + e.getMessage());
        }
    }

    /** Sign and verify once: the only way to tell, for EC, that a private key belongs to a certificate. */
    static boolean pairs(X509Certificate certificate, PrivateKey key) {
        try {
            byte[] probe = "lockkeeper node key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(probe);
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signer.sign());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
