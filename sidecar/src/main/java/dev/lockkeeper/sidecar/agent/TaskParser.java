package dev.lockkeeper.sidecar.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.sidecar.agent.CopyTask.Endpoint;
import dev.lockkeeper.sidecar.agent.VolumeRef.HostPath;
import dev.lockkeeper.sidecar.agent.VolumeRef.KubeletVolume;
import dev.lockkeeper.sidecar.agent.VolumeRef.VolumeMode;
import dev.lockkeeper.sidecar.cli.Units;
import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyRequest;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a {@code CopyTask} object ({@code apiVersion: lockkeeper.dev/v1alpha1}) into a {@link CopyTask}, checking
 * every field the agent will act on: names are UUIDs or DNS-1123 names, plugins come from an allow-list, numbers are
 * in range, unknown fields are refused (a typo must not silently change what is copied).
 */
public final class TaskParser {
    public static final String API_VERSION = "lockkeeper.dev/v1alpha1";
    public static final String KIND = "CopyTask";
    /** Kubelet's directory names for the volume plugins whose layout the agent knows. */
    static final Set<String> PLUGINS = Set.of("kubernetes.io~csi", "kubernetes.io~local-volume");

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern ADDRESS = Pattern.compile("(\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]+):[0-9]{1,5}");
    private static final int MAX_NAME = 253;

    private TaskParser() {}

    public static CopyTask parse(JsonNode object) throws TaskRejected {
        requireObject(object, "the task");
        allowOnly(object, "the task", "apiVersion", "kind", "metadata", "spec", "status");
        if (!API_VERSION.equals(text(object, "apiVersion", "apiVersion"))
                || !KIND.equals(text(object, "kind", "kind"))) {
            throw new TaskRejected("not a task: expected apiVersion " + API_VERSION + " and kind " + KIND);
        }
        JsonNode metadata = object.path("metadata");
        requireObject(metadata, "metadata");
        String name = dnsName(text(metadata, "name", "metadata.name"), "metadata.name");
        JsonNode spec = object.path("spec");
        requireObject(spec, "spec");
        allowOnly(
                spec,
                "spec",
                "source",
                "target",
                "contentType",
                "preallocation",
                "targetIsZero",
                "filesystemOverhead",
                "verify",
                "maxRate",
                "cancel");
        Content content =
                switch (optionalText(spec, "contentType", "spec.contentType").orElse("kubevirt")) {
                    case "kubevirt" -> Content.KUBEVIRT;
                    case "archive" -> Content.ARCHIVE;
                    default -> throw new TaskRejected("spec.contentType must be kubevirt or archive");
                };
        double overhead = spec.has("filesystemOverhead")
                ? number(spec.get("filesystemOverhead"), "spec.filesystemOverhead")
                : CopyRequest.UPSTREAM_FILESYSTEM_OVERHEAD;
        if (!(overhead >= 0 && overhead < 1))
            throw new TaskRejected("spec.filesystemOverhead must be at least 0 and below 1");
        long rate = 0;
        Optional<String> maxRate = optionalText(spec, "maxRate", "spec.maxRate");
        if (maxRate.isPresent()) {
            try {
                rate = Units.parseSize(maxRate.get());
            } catch (IllegalArgumentException e) {
                throw new TaskRejected("spec.maxRate: " + e.getMessage());
            }
            if (rate == 0)
                throw new TaskRejected("spec.maxRate must be at least 1 byte per second (omit it for no limit)");
        }
        return new CopyTask(
                name,
                endpoint(spec.path("source"), "spec.source"),
                endpoint(spec.path("target"), "spec.target"),
                content,
                flag(spec, "preallocation"),
                flag(spec, "targetIsZero"),
                overhead,
                !spec.has("verify") || flag(spec, "verify"),
                rate,
                flag(spec, "cancel"));
    }

    private static Endpoint endpoint(JsonNode node, String where) throws TaskRejected {
        requireObject(node, where);
        allowOnly(node, where, "node", "address", "volume", "path");
        String nodeName = dnsName(text(node, "node", where + ".node"), where + ".node");
        Optional<String> address = optionalText(node, "address", where + ".address");
        if (address.isPresent() && !ADDRESS.matcher(address.get()).matches()) {
            throw new TaskRejected(where + ".address must be host:port");
        }
        boolean hasVolume = node.has("volume");
        if (hasVolume == node.has("path")) throw new TaskRejected(where + " needs exactly one of volume and path");
        if (!hasVolume) {
            String path = text(node, "path", where + ".path");
            Path parsed = Path.of(path);
            if (!parsed.isAbsolute() || !parsed.normalize().equals(parsed) || path.contains("\0")) {
                throw new TaskRejected(where + ".path must be an absolute path without . or .. parts");
            }
            return new Endpoint(nodeName, address, new HostPath(parsed));
        }
        JsonNode volume = node.get("volume");
        String at = where + ".volume";
        requireObject(volume, at);
        allowOnly(volume, at, "podUID", "pvName", "plugin", "volumeMode");
        String podUid = text(volume, "podUID", at + ".podUID");
        if (!UUID.matcher(podUid).matches()) throw new TaskRejected(at + ".podUID must be a pod UID (lowercase UUID)");
        String pv = dnsName(text(volume, "pvName", at + ".pvName"), at + ".pvName");
        String plugin = optionalText(volume, "plugin", at + ".plugin").orElse("kubernetes.io~csi");
        if (!PLUGINS.contains(plugin))
            throw new TaskRejected(at + ".plugin must be one of "
                    + String.join(", ", PLUGINS.stream().sorted().toList()));
        VolumeMode mode =
                switch (optionalText(volume, "volumeMode", at + ".volumeMode").orElse("Filesystem")) {
                    case "Filesystem" -> VolumeMode.FILESYSTEM;
                    case "Block" -> VolumeMode.BLOCK;
                    default -> throw new TaskRejected(at + ".volumeMode must be Filesystem or Block");
                };
        if (mode == VolumeMode.BLOCK && !plugin.equals("kubernetes.io~csi")) {
            throw new TaskRejected(at + ": block volumes are only supported for CSI (plugin kubernetes.io~csi)");
        }
        return new Endpoint(nodeName, address, new KubeletVolume(podUid, pv, plugin, mode));
    }

    private static String dnsName(String value, String where) throws TaskRejected {
        if (value.length() > MAX_NAME || !DNS_SUBDOMAIN.matcher(value).matches()) {
            throw new TaskRejected(
                    where + " must be a DNS-1123 name (lowercase letters, digits, '-' and '.', at most 253)");
        }
        return value;
    }

    private static void requireObject(JsonNode node, String where) throws TaskRejected {
        if (node == null || !node.isObject()) throw new TaskRejected(where + " must be an object");
    }

    private static void allowOnly(JsonNode object, String where, String... fields) throws TaskRejected {
        Set<String> allowed = Set.of(fields);
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!allowed.contains(field))
                throw new TaskRejected(where + " has an unknown field '" + printable(field) + "'");
        }
    }

    private static String text(JsonNode object, String field, String where) throws TaskRejected {
        return optionalText(object, field, where).orElseThrow(() -> new TaskRejected(where + " is required"));
    }

    private static Optional<String> optionalText(JsonNode object, String field, String where) throws TaskRejected {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) return Optional.empty();
        if (!value.isTextual()) throw new TaskRejected(where + " must be a string");
        return Optional.of(value.textValue());
    }

    private static boolean flag(JsonNode object, String field) throws TaskRejected {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) return false;
        if (!value.isBoolean()) throw new TaskRejected("spec." + field + " must be true or false");
        return value.booleanValue();
    }

    private static double number(JsonNode value, String where) throws TaskRejected {
        if (!value.isNumber()) throw new TaskRejected(where + " must be a number");
        return value.doubleValue();
    }

    private static String printable(String text) {
        String shown = text.length() > 64 ? text.substring(0, 64) + "…" : text;
        return shown.codePoints().allMatch(c -> c >= 0x20 && c != 0x7f) ? shown : shown.replaceAll("\\p{C}", "?");
    }
}
