package dev.lockkeeper.controller.shell;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.controller.agent.AgentCertificates;
import dev.lockkeeper.controller.csr.AgentCsrApproval;
import dev.lockkeeper.controller.csr.AgentCsrApproval.Decision;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
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
 * {@code status}, as kube-controller-manager's signers do. The agent CA's certificate is published for the agents
 * in the ConfigMap {@value AgentCertificates#CA_CONFIG_MAP}, which they check every certificate against.
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

    /**
     * Publishes the agent CA (the ConfigMap agents read it from: {@link AgentCertificates}) and starts deciding
     * requests.
     */
    public CsrSigner start() {
        publishAuthority();
        agentPods = client.pods().inNamespace(agentPodsNamespace).inform();
        // the store is assigned before the informer runs: the requests already waiting (a new leader's first list)
        // are decided from it like any other
        requests = client.certificates().v1().certificateSigningRequests().runnableInformer(0);
        requests.addEventHandler(new ResourceEventHandler<>() {
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
        requests.run();
        return this;
    }

    private void publishAuthority() {
        client.configMaps()
                .inNamespace(agentPodsNamespace)
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(AgentCertificates.CA_CONFIG_MAP)
                        .addToLabels("app.kubernetes.io/part-of", "lockkeeper")
                        .endMetadata()
                        .addToData(AgentCertificates.CA_BUNDLE_KEY, Pem.encodeCertificate(authority.certificate()))
                        .build())
                .createOr(NonDeletingOperation::update);
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
