package dev.lockkeeper.webhook.cluster.live;

import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.ServingIdentity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's CA and serving certificate kept in a {@code kubernetes.io/tls} Secret (plus {@code ca.crt} and
 * {@code ca.key}) when no cert-manager issues them: every replica serves the same certificate under the same CA, so
 * one caBundle fits all, and a restart keeps it. The Secret is mirrored into a {@link CertificateDirectory}, where
 * the HTTPS server reads and reloads the files. Whoever finds the certificate due for renewal renews it; a replica
 * that loses a write race adopts the winner's Secret.
 */
public final class CertificateSecret {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateSecret.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final CertificateDirectory directory;
    private final ServingIdentity identity;

    public CertificateSecret(
            KubernetesClient client,
            String namespace,
            String name,
            CertificateDirectory directory,
            ServingIdentity identity) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
        this.directory = directory;
        this.identity = identity;
    }

    /** Secret to files, renewal if due, files back to the Secret; returns the CA certificate (PEM) now in force. */
    public String sync() throws IOException {
        var secrets = client.secrets().inNamespace(namespace);
        Secret stored = secrets.withName(name).get();
        if (stored != null && directory.replace(decode(stored)))
            LOG.info("certificates taken from Secret " + namespace + "/" + name);
        CertificateDirectory.Outcome outcome = directory.ensure(identity);
        Map<String, String> files = directory.contents();
        try {
            if (stored == null) {
                secrets.resource(secretOf(files, null)).create();
                LOG.info("certificates " + outcome.name().toLowerCase().replace('_', ' ') + ", stored in Secret "
                        + namespace + "/" + name);
            } else if (outcome != CertificateDirectory.Outcome.REUSED) {
                // The resourceVersion makes this a compare-and-swap: another replica's renewal is never overwritten.
                secrets.resource(secretOf(files, stored.getMetadata().getResourceVersion()))
                        .update();
                LOG.info("certificates renewed (" + outcome.name().toLowerCase().replace('_', ' ') + ") in Secret "
                        + namespace + "/" + name);
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw e;
            Secret winner = secrets.withName(name).get();
            Map<String, String> written = winner == null ? Map.of() : decode(winner);
            if (!directory.replace(written)) throw e;
            LOG.info("another replica wrote Secret " + namespace + "/" + name + " first; using its certificates");
            files = written;
        }
        return files.get(CertificateDirectory.CA_CERT);
    }

    private Secret secretOf(Map<String, String> files, String resourceVersion) {
        Map<String, String> data = new LinkedHashMap<>();
        files.forEach((file, pem) ->
                data.put(file, Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII))));
        return new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .withResourceVersion(resourceVersion)
                .addToLabels("app.kubernetes.io/name", "lockkeeper")
                .endMetadata()
                .withType("kubernetes.io/tls")
                .withData(data)
                .build();
    }

    private static Map<String, String> decode(Secret secret) {
        Map<String, String> files = new LinkedHashMap<>();
        if (secret.getData() != null) {
            secret.getData()
                    .forEach((file, value) ->
                            files.put(file, new String(Base64.getDecoder().decode(value), StandardCharsets.US_ASCII)));
        }
        return files;
    }
}
