package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
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

    /**
     * A plugin switch is on when its label is present, whatever its value: the kubevirt-velero-plugin reads it
     * with {@code metav1.HasLabel}, and Lockkeeper must not leave undone (or do) what the plugin does on restore.
     */
    boolean asks(String switchLabel) {
        return labels.has(switchLabel);
    }

    /** Why a switch is on, for the warning: a value that reads as "off" is called out, since it still switches on. */
    String because(String switchLabel) {
        String value = labels.path(switchLabel).asText();
        if (!value.toLowerCase(Locale.ROOT).equals("false")) return " (Restore " + name + " asks)";
        return " (Restore " + name + " has label " + switchLabel
                + ": \"false\"; like the kubevirt-velero-plugin, Lockkeeper acts on the label's presence)";
    }

    String label(String key) {
        return Json.text(labels, key);
    }
}
