package dev.lockkeeper.controller.shell;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.controller.csr.AgentCsrApproval;
import dev.lockkeeper.controller.csr.AgentCsrApproval.Decision;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Approves or denies agents' node-certificate requests ({@link AgentCsrApproval}) and signs the approved ones with
 * the agent CA: the approval condition through the {@code approval} subresource, the certificate through
 * {@code status}, as kube-controller-manager's signers do.
 */
public final class CsrSigner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CsrSigner.class.getName());
    private final KubernetesClient client;
    private final AgentCsrApproval approval;
    private final CertificateAuthority authority;
    private final Clock clock;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "lockkeeper-csr-signer");
        thread.setDaemon(true);
        return thread;
    });
    private SharedIndexInformer<CertificateSigningRequest> requests;
    private SharedIndexInformer<Pod> agentPods;

    public CsrSigner(
            KubernetesClient client,
            AgentCsrApproval.AgentIdentity identity,
            CertificateAuthority authority,
            Clock clock) {
        this.client = client;
        this.approval = new AgentCsrApproval(identity);
        this.authority = authority;
        this.clock = clock;
        this.agentPodsNamespace = identity.namespace();
    }

    private final String agentPodsNamespace;

    public CsrSigner start() {
        agentPods = client.pods().inNamespace(agentPodsNamespace).inform();
        requests = client.certificates().v1().certificateSigningRequests().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(CertificateSigningRequest csr) {
                worker.execute(() -> decide(csr.getMetadata().getName()));
            }

            @Override
            public void onUpdate(CertificateSigningRequest before, CertificateSigningRequest after) {
                worker.execute(() -> decide(after.getMetadata().getName()));
            }

            @Override
            public void onDelete(CertificateSigningRequest csr, boolean unknownFinalState) {}
        });
        return this;
    }

    private void decide(String name) {
        CertificateSigningRequest csr = requests.getStore().getByKey(name);
        if (csr == null) return;
        try {
            switch (approval.decide(csr, agentPods.getStore().list())) {
                case Decision.Ignore ignore -> {}
                case Decision.Deny deny -> {
                    LOG.log(System.Logger.Level.WARNING, "denied certificate request {0}: {1}", name, deny.reason());
                    condition(csr, "Denied", "AgentIdentityMismatch", deny.reason());
                }
                case Decision.Approve approve -> {
                    var certificate =
                            authority.issueNode(approve.node(), approve.key(), NodeCertificates.NODE_VALIDITY, clock);
                    CertificateSigningRequest approved = condition(
                            csr, "Approved", "AgentOnItsNode", "an agent pod asked for its own node " + approve.node());
                    approved.getStatus()
                            .setCertificate(Base64.getEncoder()
                                    .encodeToString(
                                            Pem.encodeCertificate(certificate).getBytes(StandardCharsets.US_ASCII)));
                    client.certificates()
                            .v1()
                            .certificateSigningRequests()
                            .resource(approved)
                            .updateStatus();
                    LOG.log(System.Logger.Level.INFO, "signed a certificate for node {0} ({1})", approve.node(), name);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "certificate request {0}: {1}", name, e.toString());
        }
    }

    private CertificateSigningRequest condition(
            CertificateSigningRequest csr, String type, String reason, String message) {
        var condition = new CertificateSigningRequestConditionBuilder()
                .withType(type)
                .withStatus("True")
                .withReason(reason)
                .withMessage(message)
                .withLastUpdateTime(clock.instant().toString())
                .build();
        var resource = client.certificates()
                .v1()
                .certificateSigningRequests()
                .withName(csr.getMetadata().getName());
        return "Approved".equals(type) ? resource.approve(condition) : resource.deny(condition);
    }

    @Override
    public void close() {
        worker.shutdownNow();
        if (requests != null) requests.stop();
        if (agentPods != null) agentPods.stop();
    }
}
