package dev.lockkeeper.controller.agent;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.NodeCertificates;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.controller.agent.AgentCertificates.Need;
import dev.lockkeeper.controller.agent.AgentCertificates.Refused;
import dev.lockkeeper.controller.agent.AgentCertificates.TlsFiles;
import dev.lockkeeper.controller.csr.AgentCsrApproval;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.jce.ECNamedCurveTable;

/**
 * Keeps {@code --tls-dir} holding this node's certificate, obtained through a {@code CertificateSigningRequest} for
 * signer {@code lockkeeper.dev/agent} (the controller's CsrSigner approves and signs it), and renews it in the
 * background when {@link AgentCertificates#renewAt} comes. The running agent needs no restart for a renewal: its
 * NodeTls looks at the files again for each new connection (at most once a second) and takes a rotation that is a
 * usable identity for the same node.
 *
 * <p>Files are replaced by rename, the CA first, then the key, then the certificate, so a reader never pairs a new
 * certificate with an old key; the key never exists with other permissions than 0600. The key of a request being
 * waited on is kept as {@value #PENDING_KEY}, so that a restarted agent finds its request by name
 * ({@link AgentCertificates#requestName}) instead of adding another. Every request is deleted once answered.
 */
public final class AgentCertificatesClient implements AutoCloseable {
    static final String PENDING_KEY = "tls.key.pending";
    private static final System.Logger LOG = System.getLogger(AgentCertificatesClient.class.getName());
    private static final Duration FIRST_RETRY = Duration.ofSeconds(30), LAST_RETRY = Duration.ofMinutes(10);

    private final KubernetesClient client;
    private final String namespace;
    private final String node;
    private final Path dir;
    private final Clock clock;
    private final Duration deadline;
    private final ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("lk-node-certificate").factory());

    /**
     * @param namespace the installation namespace, where the controller publishes the agent CA
     * @param deadline  how long one request may wait for the signer's answer
     */
    public AgentCertificatesClient(
            KubernetesClient client, String namespace, String node, Path dir, Clock clock, Duration deadline) {
        this.client = client;
        this.namespace = namespace;
        this.node = node;
        this.dir = dir;
        this.clock = clock;
        this.deadline = deadline;
    }

    /**
     * Makes the directory hold a current certificate for this node: reuses what is there, or requests, waits for and
     * installs a new one. Returns when it is due for renewal.
     *
     * @throws Refused     the request was denied or failed, or the answer is not a certificate this agent may use
     *                     (the files are then untouched)
     * @throws IOException no answer within the deadline (the request stays, to be waited on again), or the files
     *                     could not be read or written
     */
    public synchronized Instant ensure() throws IOException, Refused {
        List<X509Certificate> authorities = publishedAuthorities();
        Need need = AgentCertificates.need(
                new TlsFiles(read("tls.crt"), read("tls.key")), node, authorities, clock.instant());
        if (need instanceof Need.Current current) {
            String published = bundleOf(authorities);
            if (!published.equals(read("ca.crt"))) write("ca.crt", published, false);
            return current.renewAt();
        }
        LOG.log(Level.INFO, "requesting a certificate for node {0}: {1}", node, ((Need.Request) need).why());
        KeyPair keys = pendingKey();
        String name = AgentCertificates.requestName(node, keys.getPublic());
        X509Certificate certificate;
        try {
            certificate = obtain(name, keys.getPublic(), AgentCertificates.request(node, keys), authorities);
        } catch (Refused e) {
            // answered and deleted: the next attempt asks afresh, with a new key
            Files.deleteIfExists(dir.resolve(PENDING_KEY));
            throw e;
        }
        write("ca.crt", bundleOf(authorities), false);
        move(dir.resolve(PENDING_KEY), dir.resolve("tls.key"));
        write("tls.crt", Pem.encodeCertificate(certificate), false);
        LOG.log(
                Level.INFO,
                "installed a certificate for node {0} in {1}, valid to {2}",
                node,
                dir,
                certificate.getNotAfter().toInstant());
        return AgentCertificates.renewAt(certificate);
    }

    /** Renews at each renewal time from now on; a failed renewal is retried with backoff while the old one serves. */
    public void renewInBackground(Instant renewAt) {
        schedule(renewAt, FIRST_RETRY);
    }

    private void schedule(Instant at, Duration nextRetry) {
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        renewals.schedule(() -> renew(nextRetry), delay, TimeUnit.MILLISECONDS);
    }

    private void renew(Duration retry) {
        try {
            schedule(ensure(), FIRST_RETRY);
        } catch (IOException | Refused | RuntimeException e) {
            LOG.log(
                    Level.WARNING,
                    "renewing the certificate of node {0} failed, again in {1}: {2}",
                    node,
                    retry,
                    e.getMessage());
            Duration next = retry.multipliedBy(2);
            schedule(clock.instant().plus(retry), next.compareTo(LAST_RETRY) > 0 ? LAST_RETRY : next);
        }
    }

    /** Creates the request (or finds the one this key already made), waits for the answer and deletes the request. */
    private X509Certificate obtain(String name, PublicKey key, String request, List<X509Certificate> authorities)
            throws IOException, Refused {
        String encoded = Base64.getEncoder().encodeToString(request.getBytes(StandardCharsets.US_ASCII));
        Resource<CertificateSigningRequest> resource =
                client.certificates().v1().certificateSigningRequests().withName(name);
        CertificateSigningRequest existing = resource.get();
        if (existing != null
                && (existing.getSpec() == null
                        || !AgentCertificates.requestsKey(existing.getSpec().getRequest(), key))) {
            resource.delete(); // not for our key, though named after it: someone else put it there
            existing = null;
        }
        if (existing == null) {
            client.resource(new CertificateSigningRequestBuilder()
                            .withNewMetadata()
                            .withName(name)
                            .addToLabels("app.kubernetes.io/part-of", "lockkeeper")
                            .endMetadata()
                            .withNewSpec()
                            .withSignerName(AgentCsrApproval.SIGNER)
                            .withRequest(encoded)
                            .withUsages(AgentCertificates.USAGES)
                            .withExpirationSeconds((int) NodeCertificates.NODE_VALIDITY.toSeconds())
                            .endSpec()
                            .build())
                    .create();
        }
        CertificateSigningRequest answered;
        try {
            answered = resource.waitUntilCondition(
                    csr -> csr == null || answer(csr) != null, deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (KubernetesClientTimeoutException e) {
            // left in place, with its key: the next attempt, or the agent restarted, waits on the same request
            throw new IOException("certificate request " + name + " was not answered within " + deadline
                    + ": is a controller running with --agent-ca-dir?");
        }
        if (answered == null) throw new Refused("certificate request " + name + " was deleted before an answer");
        try {
            String outcome = answer(answered);
            if (!"Issued".equals(outcome)) {
                throw new Refused("certificate request " + name + " was " + outcome.toLowerCase() + " by the signer: "
                        + reasonOf(answered, outcome));
            }
            try {
                return AgentCertificates.accept(
                        answered.getStatus().getCertificate(), key, node, authorities, clock.instant());
            } catch (Refused e) {
                throw new Refused("refused the certificate issued for request " + name + ": " + e.getMessage());
            }
        } finally {
            try {
                resource.delete();
            } catch (KubernetesClientException e) {
                LOG.log(Level.WARNING, "could not delete certificate request {0}: {1}", name, e.getMessage());
            }
        }
    }

    /** Denied or Failed (a condition with status True), Issued once the certificate is there, else null. */
    private static String answer(CertificateSigningRequest csr) {
        if (csr.getStatus() == null) return null;
        if (csr.getStatus().getConditions() != null) {
            for (CertificateSigningRequestCondition condition : csr.getStatus().getConditions()) {
                if ("True".equals(condition.getStatus())
                        && ("Denied".equals(condition.getType()) || "Failed".equals(condition.getType())))
                    return condition.getType();
            }
        }
        String certificate = csr.getStatus().getCertificate();
        return certificate == null || certificate.isEmpty() ? null : "Issued";
    }

    private static String reasonOf(CertificateSigningRequest csr, String type) {
        return csr.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType()))
                .map(c -> Objects.requireNonNullElse(c.getReason(), "") + ": "
                        + Objects.requireNonNullElse(c.getMessage(), ""))
                .findFirst()
                .orElse("");
    }

    private List<X509Certificate> publishedAuthorities() throws Refused {
        var resource = client.configMaps().inNamespace(namespace).withName(AgentCertificates.CA_CONFIG_MAP);
        ConfigMap published;
        try {
            published = resource.waitUntilCondition(Objects::nonNull, deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (KubernetesClientTimeoutException e) {
            throw new Refused("the agent CA is not published in ConfigMap " + namespace + "/"
                    + AgentCertificates.CA_CONFIG_MAP + " (after " + deadline
                    + "): is a controller running with --agent-ca-dir?");
        }
        return AgentCertificates.authorities(
                published.getData() == null ? null : published.getData().get(AgentCertificates.CA_BUNDLE_KEY));
    }

    private static String bundleOf(List<X509Certificate> authorities) {
        StringBuilder bundle = new StringBuilder();
        authorities.forEach(ca -> bundle.append(Pem.encodeCertificate(ca)));
        return bundle.toString();
    }

    /** The key of the request in flight, made (0600, before any request names it) when there is none. */
    private KeyPair pendingKey() throws IOException {
        Path pending = dir.resolve(PENDING_KEY);
        if (Files.exists(pending)) {
            try {
                PrivateKey key = Pem.decodePrivateKey(Files.readString(pending));
                if (key instanceof ECPrivateKey ec) return new KeyPair(publicOf(ec), key);
            } catch (Pem.PemException e) {
                LOG.log(Level.WARNING, "discarding the unreadable {0}", pending);
            }
        }
        KeyPair keys = KeyPairs.newP256();
        Files.createDirectories(dir);
        write(PENDING_KEY, Pem.encodePrivateKey(keys.getPrivate()), true);
        return keys;
    }

    /** An EC public key is the private scalar times the curve's generator; BouncyCastle computes it. */
    private static PublicKey publicOf(ECPrivateKey key) throws IOException {
        try {
            var spec = ECNamedCurveTable.getParameterSpec("secp256r1");
            var point = spec.getG().multiply(key.getS()).normalize();
            var publicSpec = new ECPublicKeySpec(
                    new ECPoint(
                            point.getAffineXCoord().toBigInteger(),
                            point.getAffineYCoord().toBigInteger()),
                    key.getParams());
            return KeyFactory.getInstance("EC").generatePublic(publicSpec);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot derive the public key of " + PENDING_KEY, e);
        }
    }

    private String read(String name) throws IOException {
        Path file = dir.resolve(name);
        return Files.exists(file) ? Files.readString(file, StandardCharsets.US_ASCII) : null;
    }

    /** Readers see the old content or the new; a key is never readable by others, even briefly. */
    private void write(String name, String content, boolean secret) throws IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + name, ".tmp");
        try {
            if (secret) Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(temp, content, StandardCharsets.US_ASCII);
            move(temp, dir.resolve(name));
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void close() {
        renewals.shutdownNow();
    }
}
