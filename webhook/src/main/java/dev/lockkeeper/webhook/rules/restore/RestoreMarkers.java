package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;

/**
 * Whether an object is being restored by a backup tool: it carries one of the policy's marker labels or annotations.
 * The policy is the review's snapshot, so a reloaded policy applies from the next review on.
 */
final class RestoreMarkers {
    private RestoreMarkers() {}

    static boolean present(Policy policy, JsonNode object) {
        Policy.Restore restore = policy.restore();
        JsonNode labels = Json.at(object, "metadata", "labels");
        JsonNode annotations = Json.at(object, "metadata", "annotations");
        return restore.markerLabels().stream().anyMatch(labels::has)
                || restore.markerAnnotations().stream().anyMatch(annotations::has);
    }
}
