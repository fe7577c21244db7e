package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.util.Optional;

/**
 * The VM that owns a restored VMI, judged from what survives a restore, strongest first: an
 * ownerReference to a VirtualMachine; the plugin's {@code velero.isOwned} (a VM names its VMI after
 * itself); the {@code vm.kubevirt.io/name} label KubeVirt's VM controller puts on the VMIs it
 * creates; a VM of the VMI's name in the cluster (often not restored yet, so last).
 */
final class VmiOwner {
    private VmiOwner() {}

    static Optional<String> of(JsonNode vmi, String namespace, String name, ClusterView cluster) {
        for (JsonNode owner : Json.at(vmi, "metadata", "ownerReferences")) {
            if (Json.text(owner, "kind").equals("VirtualMachine")
                    && Json.text(owner, "apiVersion").startsWith("kubevirt.io/")) {
                return Optional.of(Json.text(owner, "name"));
            }
        }
        if (Json.annotation(vmi, RestoreKeys.VMI_IS_OWNED).equals("true")) return Optional.of(name);
        String labelled = Json.text(vmi, "metadata", "labels", RestoreKeys.VM_NAME);
        if (!labelled.isEmpty()) return Optional.of(labelled);
        return cluster.get(ResourceType.VIRTUAL_MACHINE, namespace, name).map(vm -> name);
    }
}
