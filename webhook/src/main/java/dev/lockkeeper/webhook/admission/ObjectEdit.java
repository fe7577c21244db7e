package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.lockkeeper.webhook.json.Json;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One rule's change to an object: a copy that the rule edits through these methods, and the JSON Patch operations
 * (RFC 6902) that make the same change. The chain answers with these operations instead of diffing whole objects,
 * which is quadratic in list lengths (a restored VM with 8,000 interfaces ran the diff out of heap). Paths are field
 * names and, inside lists, indexes; they are escaped for JSON Pointer here ({@code /} in annotation keys).
 */
public final class ObjectEdit {
    private final ObjectNode copy;
    private final ArrayNode operations = Json.array();
    /** Where each "remove" is in {@link #operations}, by path: a value put back there becomes one "replace". */
    private final Map<String, ObjectNode> removals = new HashMap<>();

    private ObjectEdit(ObjectNode copy) {
        this.copy = copy;
    }

    /** An edit of a deep copy of {@code object}; {@code object} itself is never changed. */
    public static ObjectEdit of(ObjectNode object) {
        return new ObjectEdit(object.deepCopy());
    }

    /** The object as edited so far: read it freely, change it only through this edit. */
    public ObjectNode object() {
        return copy;
    }

    public boolean changed() {
        return !operations.isEmpty();
    }

    /**
     * Sets the text at {@code path}: "replace" when there is a value, "add" when not. A missing (or null) field on the
     * way is created as an object, in one operation carrying the rest of the path; one of another type is a wrong-type
     * failure naming it (the chain's 422), as Jackson's {@code withObject} is.
     */
    public void put(String value, String... path) {
        JsonNode parent = copy;
        for (int depth = 0; depth < path.length - 1; depth++) {
            JsonNode child = child(parent, path[depth]);
            if (child != null && !child.isNull() && !child.isContainerNode()) {
                throw new UnsupportedOperationException(
                        "a " + child.getNodeType() + " for property \"" + path[depth] + "\" where an object belongs");
            }
            if (child == null || child.isNull()) {
                ObjectNode created = Json.object();
                ObjectNode innermost = created;
                for (int rest = depth + 1; rest < path.length - 1; rest++) innermost = innermost.putObject(path[rest]);
                innermost.put(path[path.length - 1], value);
                record(child == null ? "add" : "replace", Arrays.copyOf(path, depth + 1), created);
                set(parent, path[depth], created);
                return;
            }
            parent = child;
        }
        String last = path[path.length - 1];
        JsonNode existing = child(parent, last);
        if (existing != null && existing.isTextual() && existing.textValue().equals(value)) return;
        ObjectNode removed = existing == null ? removals.remove(pointer(path)) : null;
        if (removed != null) removed.put("op", "replace").put("value", value);
        else record(existing == null ? "add" : "replace", path, TextNode.valueOf(value));
        set(parent, last, TextNode.valueOf(value));
    }

    /** Removes the field at {@code path} of an object, if it is there. */
    public void remove(String... path) {
        JsonNode parent = copy;
        for (int depth = 0; depth < path.length - 1 && parent != null; depth++) parent = child(parent, path[depth]);
        if (!(parent instanceof ObjectNode object) || !object.has(path[path.length - 1])) return;
        removals.put(pointer(path), operations.addObject().put("op", "remove").put("path", pointer(path)));
        object.remove(path[path.length - 1]);
    }

    /** Allowed: with this edit when it changed anything, else unchanged. */
    public Verdict.Allow verdict(List<String> warnings) {
        return changed() ? new Verdict.Allow(warnings, copy, operations) : Verdict.allow(warnings);
    }

    private void record(String op, String[] path, JsonNode value) {
        operations.addObject().put("op", op).put("path", pointer(path)).set("value", value.deepCopy());
    }

    private static JsonNode child(JsonNode parent, String step) {
        if (parent instanceof ArrayNode array) return array.get(index(array, step));
        return parent.get(step);
    }

    private static void set(JsonNode parent, String step, JsonNode value) {
        if (parent instanceof ArrayNode array) array.set(index(array, step), value);
        else ((ObjectNode) parent).set(step, value);
    }

    private static int index(ArrayNode array, String step) {
        int index = Integer.parseInt(step);
        if (index < 0 || index >= array.size())
            throw new IllegalArgumentException("no item " + step + " in a list of " + array.size());
        return index;
    }

    static String pointer(String... path) {
        StringBuilder pointer = new StringBuilder();
        for (String step : path)
            pointer.append('/').append(step.replace("~", "~0").replace("/", "~1"));
        return pointer.toString();
    }
}
