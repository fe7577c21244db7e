package dev.lockkeeper.controller.csr;

import dev.lockkeeper.certs.NodeCertificates;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Decides a {@code CertificateSigningRequest} for signer {@value #SIGNER}: approved only when an agent pod asks,
 * through its own service account token (kubelet binds the pod's UID into it, and the API server reports that UID in
 * {@code spec.extra}), for a certificate naming the node that pod runs on. So a compromised node can obtain a
 * certificate for itself, never for another node, and nobody but an agent pod can obtain one at all.
 */
public final class AgentCsrApproval {
    public static final String SIGNER = "lockkeeper.dev/agent";
    static final String POD_UID = "authentication.kubernetes.io/pod-uid";
    static final String POD_NAME = "authentication.kubernetes.io/pod-name";
    private static final Set<String> USAGES =
            Set.of("digital signature", "key encipherment", "server auth", "client auth");
    private static final int MAX_REQUEST = 16 * 1024;

    /** What the controller does with one request. */
    public sealed interface Decision {
        /** Another signer's request, or one already decided: not ours to touch. */
        record Ignore() implements Decision {}

        record Approve(String node, PublicKey key) implements Decision {}

        record Deny(String reason) implements Decision {}
    }

    /**
     * @param namespace      the installation namespace, where the agent pods run
     * @param serviceAccount the agents' service account name
     */
    public record AgentIdentity(String namespace, String serviceAccount) {
        String username() {
            return "system:serviceaccount:" + namespace + ":" + serviceAccount;
        }
    }

    private final AgentIdentity identity;

    public AgentCsrApproval(AgentIdentity identity) {
        this.identity = identity;
    }

    /** @param agentPods the pods in the installation namespace (informer view) */
    public Decision decide(CertificateSigningRequest csr, List<Pod> agentPods) {
        var spec = csr.getSpec();
        if (spec == null || !SIGNER.equals(spec.getSignerName())) return new Decision.Ignore();
        if (csr.getStatus() != null
                && csr.getStatus().getConditions() != null
                && !csr.getStatus().getConditions().isEmpty()) {
            return new Decision.Ignore();
        }
        if (!identity.username().equals(spec.getUsername())) {
            return new Decision.Deny(
                    "requested by " + spec.getUsername() + ", not the agent service account " + identity.username());
        }
        String podUid = single(spec.getExtra(), POD_UID);
        if (podUid == null)
            return new Decision.Deny(
                    "the request carries no pod identity (" + POD_UID + "): only an agent pod's token may ask");
        Pod pod = agentPods.stream()
                .filter(p -> podUid.equals(p.getMetadata().getUid()))
                .findFirst()
                .orElse(null);
        if (pod == null) return new Decision.Deny("pod " + podUid + " is not a pod in " + identity.namespace());
        if (!identity.serviceAccount().equals(pod.getSpec().getServiceAccountName())) {
            return new Decision.Deny(
                    "pod " + pod.getMetadata().getName() + " does not run as " + identity.serviceAccount());
        }
        String podName = single(spec.getExtra(), POD_NAME);
        if (podName != null && !podName.equals(pod.getMetadata().getName()))
            return new Decision.Deny("pod name and UID disagree");
        if (pod.getMetadata().getDeletionTimestamp() != null)
            return new Decision.Deny("pod " + pod.getMetadata().getName() + " is being deleted");
        String podNode = pod.getSpec().getNodeName();
        if (podNode == null)
            return new Decision.Deny("pod " + pod.getMetadata().getName() + " is not scheduled to a node");
        if (spec.getUsages() == null || !USAGES.containsAll(spec.getUsages())) {
            return new Decision.Deny(
                    "usages must be among " + USAGES.stream().sorted().toList());
        }
        PKCS10CertificationRequest request;
        try {
            request = parse(spec.getRequest());
        } catch (IllegalArgumentException e) {
            return new Decision.Deny(e.getMessage());
        }
        String node;
        PublicKey key;
        try {
            var jca = new JcaPKCS10CertificationRequest(request);
            key = jca.getPublicKey();
            if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                return new Decision.Deny(
                        "the request's signature does not verify (no proof the requester holds the key)");
            }
            if (!(key instanceof ECPublicKey ec)
                    || ec.getParams().getCurve().getField().getFieldSize() != 256
                    || !request.getSubjectPublicKeyInfo()
                            .getAlgorithm()
                            .getParameters()
                            .equals(X9ObjectIdentifiers.prime256v1)) {
                return new Decision.Deny("the key must be ECDSA P-256");
            }
            node = requestedNode(request);
        } catch (IllegalArgumentException e) {
            return new Decision.Deny(e.getMessage());
        } catch (Exception e) {
            return new Decision.Deny(
                    "unreadable certificate request: " + e.getClass().getSimpleName());
        }
        if (!node.equals(podNode)) {
            return new Decision.Deny("certificate for node " + node + " requested by pod "
                    + pod.getMetadata().getName() + " on node " + podNode);
        }
        return new Decision.Approve(node, key);
    }

    private static PKCS10CertificationRequest parse(String base64) {
        if (base64 == null || base64.length() > MAX_REQUEST)
            throw new IllegalArgumentException("spec.request is missing or larger than 16 KiB");
        String pem;
        try {
            pem = new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("spec.request is not base64");
        }
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            if (!(object instanceof PKCS10CertificationRequest request))
                throw new IllegalArgumentException("spec.request is not a PEM CERTIFICATE REQUEST");
            if (parser.readObject() != null)
                throw new IllegalArgumentException("spec.request holds more than one PEM block");
            return request;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("spec.request is not a PEM CERTIFICATE REQUEST");
        }
    }

    /** Exactly one SAN, the node URI; the subject empty or {@code CN=node:<node>}; nothing else. */
    private static String requestedNode(PKCS10CertificationRequest request) {
        Extensions extensions = null;
        for (var attribute : request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            for (ASN1Encodable value : attribute.getAttributeValues()) extensions = Extensions.getInstance(value);
        }
        GeneralNames names =
                extensions == null ? null : GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
        if (names == null
                || names.getNames().length != 1
                || names.getNames()[0].getTagNo() != GeneralName.uniformResourceIdentifier) {
            throw new IllegalArgumentException(
                    "the request must name exactly one subject alternative name, the node URI "
                            + NodeCertificates.URI_PREFIX + "<node>");
        }
        String uri = names.getNames()[0].getName().toString();
        if (!uri.startsWith(NodeCertificates.URI_PREFIX))
            throw new IllegalArgumentException("the URI " + uri + " does not name a node");
        String node = uri.substring(NodeCertificates.URI_PREFIX.length());
        try {
            NodeCertificates.uriOf(node);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the URI " + uri + " does not name a node");
        }
        X500Name subject = request.getSubject();
        if (!subject.toString().isEmpty() && !subject.equals(new X500Name("CN=node:" + node))) {
            throw new IllegalArgumentException("the subject must be empty or CN=node:" + node);
        }
        return node;
    }

    private static String single(Map<String, List<String>> extra, String key) {
        if (extra == null) return null;
        List<String> values = extra.get(key);
        return values == null || values.size() != 1 ? null : values.getFirst();
    }
}
