package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import java.util.Optional;

/**
 * A restored PVC that belongs to a DataVolume. Velero strips ownerReferences, so ownership is
 * judged from what survives, strongest evidence first: an ownerReference to a DataVolume (tools
 * that keep them); an existing {@code storage.populatedFor}; CDI's {@code createdForDataVolume}
 * (CDI names the PVC after its DataVolume); a DataVolume of the PVC's name already in the
 * cluster. The restore's own DataVolumes cannot serve: Velero creates PVCs before DataVolumes.
 */
record DataVolumeClaim(String dataVolume) {

    static Optional<DataVolumeClaim> of(JsonNode pvc, String namespace, String name, ClusterView cluster) {
        for (JsonNode owner : Json.at(pvc, "metadata", "ownerReferences")) {
            if (Json.text(owner, "kind").equals("DataVolume")
                    && Json.text(owner, "apiVersion").startsWith("cdi.kubevirt.io/")) {
                return Optional.of(new DataVolumeClaim(Json.text(owner, "name")));
            }
        }
        String populatedFor = Json.annotation(pvc, CdiAnnotations.POPULATED_FOR);
        if (!populatedFor.isEmpty()) return Optional.of(new DataVolumeClaim(populatedFor));
        if (Json.hasAnnotation(pvc, RestoreKeys.CREATED_FOR_DATA_VOLUME)
                || cluster.get(ResourceType.DATA_VOLUME, namespace, name).isPresent()) {
            return Optional.of(new DataVolumeClaim(name));
        }
        return Optional.empty();
    }

    /** Why the PVC's population had not finished at backup, or empty when it had. */
    static Optional<String> unfinished(JsonNode pvc) {
        if (Json.hasAnnotation(pvc, RestoreKeys.PVC_IN_PROGRESS))
            return Optional.of("was marked in progress at backup");
        String phase = Json.annotation(pvc, RestoreKeys.POPULATION_POD_PHASE);
        if (!phase.isEmpty() && !phase.equals("Succeeded"))
            return Optional.of("had CDI pod phase " + phase + " at backup");
        return Optional.empty();
    }
}
