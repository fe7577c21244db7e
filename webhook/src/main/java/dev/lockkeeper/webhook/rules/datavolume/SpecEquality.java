package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * DataVolume spec comparison as {@code apiequality.Semantic.DeepEqual} makes it on CDI's Go types:
 * quantities compare by value ({@code 5Mi} equals {@code 5242880}), a null or empty list equals an
 * absent one, and Go's non-pointer zero values ({@code finalCheckpoint: false}, {@code contentType: ""})
 * equal absence.
 */
final class SpecEquality {
    private static final Set<String> QUANTITY_MAPS = Set.of("requests", "limits");
    // DataVolumeSpec fields that are plain (non-pointer) Go values: their zero value is the same as no value.
    private static final Set<String> ZERO_IS_ABSENT = Set.of("contentType", "priorityClassName", "finalCheckpoint");

    private SpecEquality() {}

    static boolean equal(JsonNode spec, JsonNode oldSpec) {
        return canonical(spec).equals(canonical(oldSpec));
    }

    /**
     * CDI's multi-stage exception: an UPDATE of a VDDK or ImageIO import that has checkpoints is admitted
     * when the specs are equal once {@code checkpoints} and {@code finalCheckpoint} are left out.
     */
    static boolean multiStageUpdate(JsonNode spec, JsonNode oldSpec) {
        JsonNode source = spec.path("source");
        boolean multiStage = source.isObject()
                && spec.path("checkpoints").isArray()
                && !spec.path("checkpoints").isEmpty()
                && (source.path("vddk").isObject() || source.path("imageio").isObject());
        if (!multiStage) return false;
        ObjectNode stripped = canonical(spec), oldStripped = canonical(oldSpec);
        for (ObjectNode each : List.of(stripped, oldStripped)) each.remove(List.of("checkpoints", "finalCheckpoint"));
        return stripped.equals(oldStripped);
    }

    private static ObjectNode canonical(JsonNode spec) {
        ObjectNode copy = spec instanceof ObjectNode object ? object.deepCopy() : Json.object();
        for (String field : ZERO_IS_ABSENT) {
            JsonNode value = copy.path(field);
            if (value.isTextual() && value.asText().isEmpty() || value.isBoolean() && !value.asBoolean())
                copy.remove(field);
        }
        normalize(copy, "");
        return copy;
    }

    private static void normalize(JsonNode node, String parentField) {
        if (node instanceof ObjectNode object) {
            List<String> absent = new ArrayList<>();
            for (var entry : object.properties()) {
                JsonNode value = entry.getValue();
                if (value.isNull() || value.isArray() && value.isEmpty()) {
                    absent.add(entry.getKey());
                } else if (QUANTITY_MAPS.contains(parentField) && (value.isTextual() || value.isNumber())) {
                    entry.setValue(quantity(value));
                } else {
                    normalize(value, entry.getKey());
                }
            }
            object.remove(absent);
        } else if (node instanceof ArrayNode array) {
            for (JsonNode element : array) normalize(element, "");
        }
    }

    /** The quantity's exact value, or the text unchanged when it is no quantity (the spec checks report that). */
    private static JsonNode quantity(JsonNode value) {
        try {
            return Json.MAPPER
                    .getNodeFactory()
                    .textNode(Quantity.getAmountInBytes(
                                    new Quantity(value.asText().strip()))
                            .stripTrailingZeros()
                            .toPlainString());
        } catch (RuntimeException notAQuantity) {
            return value;
        }
    }
}
