package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;
import java.util.Optional;

/**
 * Feature gates of CDI (the {@code CDIConfig} named {@code config}) and KubeVirt (the KubeVirt CR),
 * read from the cluster view: informers in live mode, manifests in embedded mode.
 */
public final class FeatureGates {
    /** CDI's {@code common.ConfigName}: the one CDIConfig CDI reads. */
    public static final String CDI_CONFIG_NAME = "config";

    public static final String CDI_CLAIM_ADOPTION = "DataVolumeClaimAdoption";

    public static final String KUBEVIRT_OCI_EXPORT = "OCIExport";
    public static final String KUBEVIRT_TEMPLATE = "Template";

    /** KubeVirt's maturity of a gate decides its default: Alpha off unless listed, Beta on unless disabled, GA always on. */
    public enum Maturity {
        ALPHA,
        BETA,
        GA
    }

    private FeatureGates() {}

    /**
     * CDI's {@code isFeatureGateEnabled}: the gate is listed in {@code spec.featureGates} of CDIConfig {@code config}.
     * Without that CDIConfig (CDI not installed, or not yet reconciled) no gate is on.
     */
    public static boolean cdi(ClusterView cluster, String gate) {
        return cluster.get(ResourceType.CDI_CONFIG, "", CDI_CONFIG_NAME)
                .map(config -> contains(config.path("spec").path("featureGates"), gate))
                .orElse(false);
    }

    /**
     * KubeVirt's {@code featuregate.IsEnabled} over {@code spec.configuration.developerConfiguration} of the KubeVirt CR:
     * GA gates are on; a gate in {@code featureGates} is on, else one in {@code disabledFeatureGates} is off, else
     * Beta gates are on and Alpha gates off. Without a KubeVirt CR the defaults of a CR without configuration apply.
     */
    public static boolean kubevirt(ClusterView cluster, String gate, Maturity maturity) {
        if (maturity == Maturity.GA) return true;
        JsonNode developer = kubevirtConfiguration(cluster).path("developerConfiguration");
        if (contains(developer.path("featureGates"), gate)) return true;
        if (contains(developer.path("disabledFeatureGates"), gate)) return false;
        return maturity == Maturity.BETA;
    }

    /**
     * KubeVirt's {@code VirtTemplateDeploymentEnabled}: the {@code Template} gate (Beta) is on and
     * {@code spec.configuration.virtTemplateDeployment.enabled} is not false.
     */
    public static boolean kubevirtTemplateDeployment(ClusterView cluster) {
        if (!kubevirt(cluster, KUBEVIRT_TEMPLATE, Maturity.BETA)) return false;
        JsonNode enabled =
                kubevirtConfiguration(cluster).path("virtTemplateDeployment").path("enabled");
        return !enabled.isBoolean() || enabled.asBoolean();
    }

    /** {@code spec.configuration} of the KubeVirt CR: a cluster runs one; the first that is not being deleted counts. */
    private static JsonNode kubevirtConfiguration(ClusterView cluster) {
        List<ObjectNode> installs = cluster.list(ResourceType.KUBEVIRT, null);
        Optional<ObjectNode> live = installs.stream()
                .filter(kv -> Json.text(kv, "metadata", "deletionTimestamp").isEmpty())
                .findFirst();
        return live.or(() -> installs.stream().findFirst())
                .map(kv -> kv.path("spec").path("configuration"))
                .orElse(Json.object());
    }

    private static boolean contains(JsonNode list, String gate) {
        for (JsonNode entry : list) if (gate.equals(entry.asText())) return true;
        return false;
    }
}
