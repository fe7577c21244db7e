package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A secondary index over one resource type: each object maps to zero or more keys. Live mode
 * registers these with the informers; embedded mode evaluates them over the loaded objects.
 */
public record ClusterIndex(String name, ResourceType type, Function<JsonNode, List<String>> keys) {

    /** Pods by {@code <namespace>/<claimName>} of every PVC volume they mount. */
    public static final ClusterIndex POD_CLAIMS = new ClusterIndex("claims", ResourceType.POD, pod -> {
        List<String> claims = new ArrayList<>();
        String namespace = Json.text(pod, "metadata", "namespace");
        for (JsonNode volume : pod.path("spec").path("volumes")) {
            String claim = Json.text(volume, "persistentVolumeClaim", "claimName");
            if (!claim.isEmpty()) claims.add(namespace + "/" + claim);
        }
        return claims;
    });

    /** VMs by the MAC addresses of their interfaces (lower case, as {@link #normalizeMac} writes them). */
    public static final ClusterIndex VM_MACS = new ClusterIndex(
            "macs",
            ResourceType.VIRTUAL_MACHINE,
            vm -> macs(vm.path("spec").path("template").path("spec")));

    public static final ClusterIndex VMI_MACS =
            new ClusterIndex("macs", ResourceType.VIRTUAL_MACHINE_INSTANCE, vmi -> macs(vmi.path("spec")));

    /** VMs and VMIs by firmware identity, keyed {@code uuid:<uuid>} and {@code serial:<serial>}. */
    public static final ClusterIndex VM_FIRMWARE = new ClusterIndex(
            "firmware",
            ResourceType.VIRTUAL_MACHINE,
            vm -> firmware(vm.path("spec").path("template").path("spec")));

    public static final ClusterIndex VMI_FIRMWARE =
            new ClusterIndex("firmware", ResourceType.VIRTUAL_MACHINE_INSTANCE, vmi -> firmware(vmi.path("spec")));

    /** VirtualMachineExports by {@code <namespace>/<source kind>/<source name>}. */
    public static final ClusterIndex EXPORT_SOURCES = new ClusterIndex(
            "sources",
            ResourceType.VIRTUAL_MACHINE_EXPORT,
            export -> List.of(Json.text(export, "metadata", "namespace") + "/"
                    + Json.text(export, "spec", "source", "kind") + "/" + Json.text(export, "spec", "source", "name")));

    /**
     * VolumeCopies by {@code <namespace>/<name>} of the PVC they copy from; a source without a namespace is in the
     * VolumeCopy's own (as the controller reads it). One lookup per PVC volume keeps pod admission fast.
     */
    public static final ClusterIndex COPY_SOURCES = new ClusterIndex("sources", ResourceType.VOLUME_COPY, copy -> {
        JsonNode pvc = copy.path("spec").path("source").path("pvc");
        String name = Json.text(pvc, "name");
        if (name.isEmpty()) return List.of();
        String namespace = Json.text(pvc, "namespace");
        return List.of((namespace.isEmpty() ? Json.text(copy, "metadata", "namespace") : namespace) + "/" + name);
    });

    /** VMs by {@code <namespace>/<claim>} of every PVC their disks use, directly or through a DataVolume (same name). */
    public static final ClusterIndex VM_CLAIMS = new ClusterIndex("claims", ResourceType.VIRTUAL_MACHINE, vm -> {
        String namespace = Json.text(vm, "metadata", "namespace");
        return volumeClaims(vm.path("spec").path("template").path("spec")).stream()
                .map(claim -> namespace + "/" + claim)
                .toList();
    });

    public static final List<ClusterIndex> ALL =
            List.of(POD_CLAIMS, VM_MACS, VMI_MACS, VM_FIRMWARE, VMI_FIRMWARE, EXPORT_SOURCES, COPY_SOURCES, VM_CLAIMS);

    /** Claim names a VM or VMI spec mounts: PVC volumes, and DataVolume volumes (a DataVolume's PVC has its name). */
    public static List<String> volumeClaims(JsonNode vmiSpec) {
        List<String> claims = new ArrayList<>();
        for (JsonNode volume : vmiSpec.path("volumes")) {
            String claim = Json.text(volume, "persistentVolumeClaim", "claimName");
            if (claim.isEmpty()) claim = Json.text(volume, "dataVolume", "name");
            if (!claim.isEmpty()) claims.add(claim);
        }
        return claims;
    }

    public static String normalizeMac(String mac) {
        return mac.strip().toLowerCase(Locale.ROOT).replace('-', ':');
    }

    private static List<String> macs(JsonNode vmiSpec) {
        List<String> macs = new ArrayList<>();
        for (JsonNode iface : vmiSpec.path("domain").path("devices").path("interfaces")) {
            String mac = Json.text(iface, "macAddress");
            if (!mac.isEmpty()) macs.add(normalizeMac(mac));
        }
        return macs;
    }

    private static List<String> firmware(JsonNode vmiSpec) {
        List<String> keys = new ArrayList<>();
        JsonNode firmware = vmiSpec.path("domain").path("firmware");
        String uuid = Json.text(firmware, "uuid");
        String serial = Json.text(firmware, "serial");
        if (!uuid.isEmpty()) keys.add("uuid:" + uuid.toLowerCase(Locale.ROOT));
        if (!serial.isEmpty()) keys.add("serial:" + serial);
        return keys;
    }
}
