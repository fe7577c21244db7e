package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.Locale;
import java.util.Optional;

/**
 * Which other VM or VMI already uses a MAC address or firmware identity. The VM being restored
 * and a VMI of its name (its own, left running) do not count.
 */
final class IdentityUsers {
    private final ClusterView cluster;
    private final String namespace;
    private final String name;

    IdentityUsers(ClusterView cluster, String namespace, String name) {
        this.cluster = cluster;
        this.namespace = namespace;
        this.name = name;
    }

    Optional<String> ofMac(String mac) {
        String key = ClusterIndex.normalizeMac(mac);
        return other(ClusterIndex.VM_MACS, key, "VM").or(() -> other(ClusterIndex.VMI_MACS, key, "VMI"));
    }

    Optional<String> ofUuid(String uuid) {
        return ofFirmware("uuid:" + uuid.toLowerCase(Locale.ROOT));
    }

    Optional<String> ofSerial(String serial) {
        return ofFirmware("serial:" + serial);
    }

    private Optional<String> ofFirmware(String key) {
        return other(ClusterIndex.VM_FIRMWARE, key, "VM").or(() -> other(ClusterIndex.VMI_FIRMWARE, key, "VMI"));
    }

    private Optional<String> other(ClusterIndex index, String key, String kind) {
        for (JsonNode user : cluster.byIndex(index, key)) {
            String userNamespace = Json.text(user, "metadata", "namespace"),
                    userName = Json.text(user, "metadata", "name");
            if (!(userNamespace.equals(namespace) && userName.equals(name)))
                return Optional.of(kind + " " + userNamespace + "/" + userName);
        }
        return Optional.empty();
    }
}
