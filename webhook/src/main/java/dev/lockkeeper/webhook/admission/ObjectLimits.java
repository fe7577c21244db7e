package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The policy's size limits, checked on the object under review before any rule reads it, so that no rule's work
 * grows with a hostile object: a VirtualMachine with 100,000 interfaces or 10,000 dataVolumeTemplates is a 422 that
 * names the limit, in the time it takes to count. Only {@code object} is checked: {@code oldObject} is what the API
 * server stored, and refusing it would leave an object that no update can shrink.
 */
final class ObjectLimits {
    private record Counted(String field, List<String> path, String limit) {}

    private static final List<Counted> LISTS = List.of(
            new Counted(
                    "spec.template.spec.domain.devices.interfaces",
                    List.of("spec", "template", "spec", "domain", "devices", "interfaces"),
                    "maxInterfaces"),
            new Counted(
                    "spec.domain.devices.interfaces",
                    List.of("spec", "domain", "devices", "interfaces"),
                    "maxInterfaces"),
            new Counted(
                    "spec.template.spec.domain.devices.disks",
                    List.of("spec", "template", "spec", "domain", "devices", "disks"),
                    "maxDisks"),
            new Counted("spec.domain.devices.disks", List.of("spec", "domain", "devices", "disks"), "maxDisks"),
            new Counted("spec.template.spec.volumes", List.of("spec", "template", "spec", "volumes"), "maxVolumes"),
            new Counted("spec.volumes", List.of("spec", "volumes"), "maxVolumes"),
            new Counted("spec.dataVolumeTemplates", List.of("spec", "dataVolumeTemplates"), "maxDataVolumeTemplates"));
    private static final int MAX_KEY_SHOWN = 100;

    private ObjectLimits() {}

    /** The 422 for the first limit {@code object} passes, or null when it is within all of them. */
    static Decision check(ObjectNode object, Policy.Limits limits) {
        if (object == null) return null;
        for (Counted list : LISTS) {
            JsonNode items = Json.at(object, list.path().toArray(String[]::new));
            int limit = limit(limits, list.limit());
            if (items.isArray() && items.size() > limit) {
                return refused(
                        list.field(),
                        list.field() + " has " + items.size() + " items, more than the policy's limits." + list.limit()
                                + " (" + limit + ")");
            }
        }
        for (Map.Entry<String, JsonNode> annotation :
                Json.at(object, "metadata", "annotations").properties()) {
            int length = annotation.getValue().asText("").length();
            if (length > limits.maxAnnotationBytes()) {
                String key = annotation.getKey().length() <= MAX_KEY_SHOWN
                        ? annotation.getKey()
                        : annotation.getKey().substring(0, MAX_KEY_SHOWN) + "…";
                String field = "metadata.annotations[" + key + "]";
                return refused(
                        field,
                        field + " is " + length + " characters, more than the policy's limits.maxAnnotationBytes ("
                                + limits.maxAnnotationBytes() + ")");
            }
        }
        if (jsonLengthAbove(object, limits.maxObjectBytes())) {
            return refused(
                    "",
                    "the object is more than the policy's limits.maxObjectBytes (" + limits.maxObjectBytes()
                            + ") of JSON");
        }
        return null;
    }

    private static int limit(Policy.Limits limits, String name) {
        return switch (name) {
            case "maxInterfaces" -> limits.maxInterfaces();
            case "maxDisks" -> limits.maxDisks();
            case "maxVolumes" -> limits.maxVolumes();
            case "maxDataVolumeTemplates" -> limits.maxDataVolumeTemplates();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static Decision refused(String field, String message) {
        return Decision.denied(Verdict.invalid(message, Cause.invalid(field, message)), List.of(), "limits");
    }

    /**
     * Whether {@code node} written as compact JSON is longer than {@code limit} characters (escapes aside), walking it
     * only until the limit is passed; iterative, so nesting depth costs no stack.
     */
    static boolean jsonLengthAbove(JsonNode node, long limit) {
        long length = 0;
        Deque<JsonNode> pending = new ArrayDeque<>();
        pending.push(node);
        while (!pending.isEmpty()) {
            JsonNode next = pending.pop();
            if (next.isObject()) {
                length += 2 + Math.max(0, next.size() - 1);
                for (Map.Entry<String, JsonNode> field : next.properties()) {
                    length += field.getKey().length() + 3;
                    pending.push(field.getValue());
                }
            } else if (next.isArray()) {
                length += 2 + Math.max(0, next.size() - 1);
                next.forEach(pending::push);
            } else {
                length += next.isTextual()
                        ? next.textValue().length() + 2
                        : next.asText().length();
            }
            if (length > limit) return true;
        }
        return false;
    }
}
