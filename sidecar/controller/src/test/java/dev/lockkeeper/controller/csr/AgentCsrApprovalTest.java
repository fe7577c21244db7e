package dev.lockkeeper.controller.csr;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.controller.csr.AgentCsrApproval.Decision;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import java.io.StringWriter;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Only an agent pod, for its own node, through its own token. Forged requests each get their own row. */
class AgentCsrApprovalTest {
    static final String AGENT_POD_UID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    static final AgentCsrApproval approval =
            new AgentCsrApproval(new AgentCsrApproval.AgentIdentity("lockkeeper", "lockkeeper-agent"));

    /** What an agent on node-a sends; each row changes one thing. */
    static final class Request {
        KeyPair keys = KeyPairs.newP256();
        KeyPair signingKeys = keys;
        String subject = "CN=node:node-a";
        List<GeneralName> sans = new ArrayList<>(
                List.of(new GeneralName(GeneralName.uniformResourceIdentifier, NodeCertificates.uriOf("node-a"))));
        String username = "system:serviceaccount:lockkeeper:lockkeeper-agent";
        Map<String, List<String>> extra = new java.util.HashMap<>(Map.of(
                AgentCsrApproval.POD_UID,
                List.of(AGENT_POD_UID),
                AgentCsrApproval.POD_NAME,
                List.of("lockkeeper-agent-x7k2p")));
        List<String> usages = List.of("digital signature", "server auth", "client auth");
        String signer = AgentCsrApproval.SIGNER;
        String request;

        CertificateSigningRequest build() throws Exception {
            var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), keys.getPublic());
            if (!sans.isEmpty()) {
                var extensions = new ExtensionsGenerator();
                extensions.addExtension(
                        Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
                builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
            }
            String algorithm =
                    signingKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            var csr = builder.build(new JcaContentSignerBuilder(algorithm).build(signingKeys.getPrivate()));
            StringWriter pem = new StringWriter();
            try (var writer = new JcaPEMWriter(pem)) {
                writer.writeObject(csr);
            }
            String encoded = request != null
                    ? request
                    : Base64.getEncoder().encodeToString(pem.toString().getBytes());
            return new CertificateSigningRequestBuilder()
                    .withNewMetadata()
                    .withName("agent-node-a")
                    .endMetadata()
                    .withNewSpec()
                    .withSignerName(signer)
                    .withRequest(encoded)
                    .withUsername(username)
                    .withExtra(extra)
                    .withUsages(usages)
                    .endSpec()
                    .build();
        }
    }

    static Pod agentPod(String uid, String node, String serviceAccount) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("lockkeeper-agent-x7k2p")
                .withNamespace("lockkeeper")
                .withUid(uid)
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .withServiceAccountName(serviceAccount)
                .endSpec()
                .build();
    }

    static final List<Pod> AGENTS = List.of(agentPod(AGENT_POD_UID, "node-a", "lockkeeper-agent"));

    @Test
    void anAgentPodGetsACertificateForItsOwnNodeSignedByTheAgentCa() throws Exception {
        Request request = new Request();
        Decision decision = approval.decide(request.build(), AGENTS);
        var approve = assertInstanceOf(Decision.Approve.class, decision);
        assertEquals("node-a", approve.node());
        assertEquals(request.keys.getPublic(), approve.key());
        var ca = CertificateAuthority.generate("lockkeeper-agent-ca", Duration.ofDays(365), Clock.systemUTC());
        var certificate =
                ca.issueNode(approve.node(), approve.key(), NodeCertificates.NODE_VALIDITY, Clock.systemUTC());
        certificate.verify(ca.certificate().getPublicKey());
        assertEquals(java.util.Optional.of("node-a"), NodeCertificates.nodeOf(certificate));
        assertEquals(request.keys.getPublic(), certificate.getPublicKey());
    }

    @Test
    void otherSignersAndDecidedRequestsAreNotOurs() throws Exception {
        Request other = new Request();
        other.signer = "kubernetes.io/kube-apiserver-client";
        assertInstanceOf(Decision.Ignore.class, approval.decide(other.build(), AGENTS));
        CertificateSigningRequest decided = new Request().build();
        decided.setStatus(new io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestStatusBuilder()
                .addNewCondition()
                .withType("Approved")
                .withStatus("True")
                .endCondition()
                .build());
        assertInstanceOf(Decision.Ignore.class, approval.decide(decided, AGENTS));
    }

    static Stream<Arguments> forged() {
        return Stream.of(
                row("a user, not the agent service account", r -> r.username = "alice", "requested by alice"),
                row(
                        "another service account",
                        r -> r.username = "system:serviceaccount:lockkeeper:default",
                        "not the agent service account"),
                row("no pod in the token (a long-lived token)", r -> r.extra.clear(), "carries no pod identity"),
                row(
                        "a pod UID that is no agent pod",
                        r -> r.extra.put(AgentCsrApproval.POD_UID, List.of("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")),
                        "is not a pod in lockkeeper"),
                row(
                        "pod name and UID of different pods",
                        r -> r.extra.put(AgentCsrApproval.POD_NAME, List.of("other")),
                        "disagree"),
                row(
                        "another node's certificate",
                        r -> {
                            r.subject = "CN=node:node-b";
                            r.sans = new ArrayList<>(List.of(new GeneralName(
                                    GeneralName.uniformResourceIdentifier, NodeCertificates.uriOf("node-b"))));
                        },
                        "certificate for node node-b requested by pod lockkeeper-agent-x7k2p on node node-a"),
                row(
                        "a second SAN (a DNS name)",
                        r -> r.sans.add(new GeneralName(GeneralName.dNSName, "kubernetes.default.svc")),
                        "exactly one subject alternative name"),
                row("no SAN", r -> r.sans.clear(), "exactly one subject alternative name"),
                row(
                        "a URI that names no node",
                        r -> r.sans = new ArrayList<>(List.of(new GeneralName(
                                GeneralName.uniformResourceIdentifier, "spiffe://lockkeeper.dev/node/../admin"))),
                        "does not name a node"),
                row(
                        "an admin subject",
                        r -> r.subject = "CN=system:admin,O=system:masters",
                        "subject must be empty or CN=node:node-a"),
                row("signed with another key", r -> r.signingKeys = KeyPairs.newP256(), "signature does not verify"),
                row(
                        "an RSA key",
                        r -> {
                            r.keys = rsa();
                            r.signingKeys = r.keys;
                        },
                        "ECDSA P-256"),
                row("a CA usage", r -> r.usages = List.of("cert sign", "client auth"), "usages must be among"),
                row("not base64", r -> r.request = "%%%", "not base64"),
                row(
                        "not a CSR",
                        r -> r.request = Base64.getEncoder()
                                .encodeToString(
                                        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".getBytes()),
                        "not a PEM CERTIFICATE REQUEST"),
                row("huge", r -> r.request = "A".repeat(20_000), "larger than 16 KiB"));
    }

    static Arguments row(String name, Consumer<Request> change, String reason) {
        return Arguments.of(name, change, reason);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forged")
    void forgedRequestsAreDenied(String name, Consumer<Request> change, String reason) throws Exception {
        Request request = new Request();
        change.accept(request);
        Decision decision = approval.decide(request.build(), AGENTS);
        var deny = assertInstanceOf(Decision.Deny.class, decision, name);
        assertTrue(deny.reason().contains(reason), name + ": " + deny.reason());
    }

    @Test
    void aPodWithAnotherServiceAccountOrBeingDeletedIsRefused() throws Exception {
        var impostor = List.of(agentPod(AGENT_POD_UID, "node-a", "default"));
        assertTrue(((Decision.Deny) approval.decide(new Request().build(), impostor))
                .reason()
                .contains("does not run as lockkeeper-agent"));
        Pod leaving = agentPod(AGENT_POD_UID, "node-a", "lockkeeper-agent");
        leaving.getMetadata().setDeletionTimestamp("2026-12-02T18:00:00Z");
        assertTrue(((Decision.Deny) approval.decide(new Request().build(), List.of(leaving)))
                .reason()
                .contains("being deleted"));
    }

    static KeyPair rsa() {
        try {
            var generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
