package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.FeatureGates;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import dev.lockkeeper.webhook.rules.restore.RestoreKeys;
import java.util.Set;

/**
 * Whether a DataVolume may be created over a PVC of its name that already exists, as CDI's
 * {@code ClaimMayExistBeforeDataVolume} and its validating webhook decide it.
 */
final class ClaimAdoption {
    /** CDI's {@code AnnAllowClaimAdoption}; KubeVirt sets it to "true" on every DataVolume of a {@code dataVolumeTemplate}. */
    static final String ALLOW_CLAIM_ADOPTION = "cdi.kubevirt.io/allowClaimAdoption";
    // Go's strconv.ParseBool; anything else is a parse error, which CDI reads as false.
    private static final Set<String> GO_TRUE = Set.of("1", "t", "T", "TRUE", "true", "True");

    private ClaimAdoption() {}

    /**
     * True when the existing {@code pvc} does not stop {@code dataVolume}: CDI may adopt or has populated it
     * ({@code ClaimMayExistBeforeDataVolume}), or its controller owner is a DataVolume (the DataVolume controller
     * manages it).
     */
    static boolean allowed(JsonNode pvc, JsonNode dataVolume, ClusterView cluster) {
        return mayExistBeforeDataVolume(pvc, dataVolume, cluster) || "DataVolume".equals(controllerKind(pvc));
    }

    /** {@code ClaimIsPopulatedForDataVolume || AllowClaimAdoption}. */
    private static boolean mayExistBeforeDataVolume(JsonNode pvc, JsonNode dataVolume, ClusterView cluster) {
        String name = Json.text(dataVolume, "metadata", "name");
        if (name.equals(Json.annotation(pvc, CdiAnnotations.POPULATED_FOR))
                && Json.hasAnnotation(pvc, CdiAnnotations.POPULATED_FOR)) {
            return true;
        }
        // A PVC CDI created for this very DataVolume is not adopted: it already belongs to it.
        if (Json.hasAnnotation(pvc, RestoreKeys.CREATED_FOR_DATA_VOLUME)
                && Json.annotation(pvc, RestoreKeys.CREATED_FOR_DATA_VOLUME)
                        .equals(Json.text(dataVolume, "metadata", "uid"))) {
            return false;
        }
        // The DataVolume's annotation, when present, wins over the feature gate, whatever its value.
        if (Json.hasAnnotation(dataVolume, ALLOW_CLAIM_ADOPTION))
            return GO_TRUE.contains(Json.annotation(dataVolume, ALLOW_CLAIM_ADOPTION));
        return FeatureGates.cdi(cluster, FeatureGates.CDI_CLAIM_ADOPTION);
    }

    /** {@code metav1.GetControllerOf}: the kind of the ownerReference marked {@code controller: true}, or null. */
    private static String controllerKind(JsonNode object) {
        for (JsonNode owner : object.path("metadata").path("ownerReferences")) {
            if (owner.path("controller").asBoolean(false)) return Json.text(owner, "kind");
        }
        return null;
    }
}
