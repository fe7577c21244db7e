package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.Locale;
import java.util.Optional;

/** The Velero Restore a restored object came from, and the kubevirt-velero-plugin switches on it. */
record VeleroRestore(String name, JsonNode labels) {
    /**
     * A restored object does not say which namespace its Restore lives in, and Restores are read
     * one GET at a time (no informer), so Lockkeeper looks in the policy's {@code restore.veleroNamespace}.
     */
    static Optional<VeleroRestore> of(JsonNode restored, ClusterView cluster, String veleroNamespace) {
        String name = Json.text(restored, "metadata", "labels", RestoreKeys.VELERO_RESTORE_NAME);
        if (name.isEmpty()) return Optional.empty();
        return cluster.read(ResourceType.VELERO_RESTORE, veleroNamespace, name)
                .map(restore -> new VeleroRestore(name, Json.at(restore, "metadata", "labels")));
    }

    /** A plugin switch is on when its label is present, unless its value is "false". */
    boolean asks(String switchLabel) {
        return labels.has(switchLabel) && !labels.path(switchLabel).asText().toLowerCase(Locale.ROOT).equals("false");
    }

    String label(String key) {
        return Json.text(labels, key);
    }
}
