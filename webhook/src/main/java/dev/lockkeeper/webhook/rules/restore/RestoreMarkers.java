package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.function.Supplier;

/**
 * Whether an object is being restored by a backup tool: it carries one of the policy's marker
 * labels or annotations. Read per request, so a reloaded policy applies at once.
 */
public final class RestoreMarkers {
    private final Supplier<Policy> policy;

    public RestoreMarkers(Supplier<Policy> policy) {
        this.policy = policy;
    }

    /** Where the Velero Restore objects live. */
    public String veleroNamespace() {
        return policy.get().restore().veleroNamespace();
    }

    public boolean present(JsonNode object) {
        Policy.Restore restore = policy.get().restore();
        JsonNode labels = Json.at(object, "metadata", "labels");
        JsonNode annotations = Json.at(object, "metadata", "annotations");
        return restore.markerLabels().stream().anyMatch(labels::has)
                || restore.markerAnnotations().stream().anyMatch(annotations::has);
    }
}
