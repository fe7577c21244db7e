package dev.lockkeeper.webhook.cluster.live;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ServiceReference;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the webhook's CA into the {@code caBundle} of every webhook, in the named Mutating- and
 * ValidatingWebhookConfigurations, that calls this service, as cert-manager's CA injector would. Run again and
 * again, it repairs a caBundle that a re-apply of the manifests emptied. Webhooks of other services are not touched.
 */
public final class CaBundleInjector {
    private static final Logger LOG = LoggerFactory.getLogger(CaBundleInjector.class);

    private final KubernetesClient client;
    private final List<String> configurations;
    private final String serviceName;
    private final String serviceNamespace;

    public CaBundleInjector(
            KubernetesClient client, List<String> configurations, String serviceName, String serviceNamespace) {
        this.client = client;
        this.configurations = List.copyOf(configurations);
        this.serviceName = serviceName;
        this.serviceNamespace = serviceNamespace;
    }

    /** Returns how many webhooks had a caBundle other than {@code caPem} and now have it. */
    public int inject(String caPem) {
        String bundle = Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
        var admission = client.admissionRegistration().v1();
        int changed = 0;
        for (String name : configurations) {
            MutatingWebhookConfiguration mutating =
                    admission.mutatingWebhookConfigurations().withName(name).get();
            ValidatingWebhookConfiguration validating =
                    admission.validatingWebhookConfigurations().withName(name).get();
            if (mutating != null)
                changed += injectInto(
                        mutating, mutating.getWebhooks().stream().map(MutatingWebhook::getClientConfig), bundle);
            if (validating != null)
                changed += injectInto(
                        validating, validating.getWebhooks().stream().map(ValidatingWebhook::getClientConfig), bundle);
            if (mutating == null && validating == null) {
                LOG.warn("no Mutating- or ValidatingWebhookConfiguration named " + name
                        + "; no caBundle injected there");
            }
        }
        return changed;
    }

    /** Sets the bundle on the webhooks that call this service, and writes the configuration back if any changed. */
    private int injectInto(HasMetadata configuration, Stream<WebhookClientConfig> clientConfigs, String bundle) {
        int updated = 0;
        for (WebhookClientConfig config :
                clientConfigs.filter(this::callsThisService).toList()) {
            if (bundle.equals(config.getCaBundle())) continue;
            config.setCaBundle(bundle);
            updated++;
        }
        if (updated == 0) return 0;
        String what =
                configuration.getKind() + " " + configuration.getMetadata().getName();
        try {
            // An update carries the resourceVersion read above, so a concurrent edit is never overwritten.
            client.resource(configuration).update();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw e;
            LOG.info(what + " changed while the caBundle was injected; it is checked again at the next sync");
            return 0;
        }
        LOG.info("caBundle injected into " + updated + " webhook(s) of " + what);
        return updated;
    }

    private boolean callsThisService(WebhookClientConfig config) {
        ServiceReference service = config == null ? null : config.getService();
        return service != null
                && serviceName.equals(service.getName())
                && serviceNamespace.equals(service.getNamespace());
    }
}
