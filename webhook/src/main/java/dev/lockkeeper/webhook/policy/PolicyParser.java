package dev.lockkeeper.webhook.policy;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and validates a policy document:
 * <pre>
 * apiVersion: lockkeeper.dev/v1
 * kind: Policy
 * excludedNamespaces: [sandbox]
 * rules:                         # rule name: deny | warn | off (default deny)
 *   export-only-when-stopped: warn
 * export: {minTokenLength: 12, maxTtl: 24h, exporterCreators: [system:serviceaccount:kubevirt:kubevirt-controller]}
 * restore: {markerLabels: [velero.io/restore-name], markerAnnotations: [], veleroNamespace: velero}
 * limits: {defaultTimeout: 3s, answerReserve: 500ms, maxInterfaces: 256, maxDisks: 256, maxVolumes: 256,
 *          maxDataVolumeTemplates: 256, maxAnnotationBytes: 262144, maxObjectBytes: 3145728}
 * </pre>
 * Every problem is reported with the field it is in; unknown fields and rule names are errors,
 * so a typo never silently leaves a rule enforcing.
 */
public final class PolicyParser {
    private static final Set<String> TOP_LEVEL =
            Set.of("apiVersion", "kind", "excludedNamespaces", "rules", "export", "restore", "limits");

    private final Set<String> knownRules;

    public PolicyParser(Set<String> knownRules) {
        this.knownRules = Set.copyOf(knownRules);
    }

    public Policy parse(String source, String text) throws PolicyException {
        JsonNode root;
        try {
            root = Json.YAML.readTree(text);
        } catch (JacksonException e) {
            throw new PolicyException(source + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null
                || root.isMissingNode()
                || root.isNull()
                || (root.isTextual() && root.asText().isBlank())) return Policy.DEFAULT;
        if (!root.isObject()) throw new PolicyException(source + ": a policy must be a mapping");
        List<String> problems = new ArrayList<>();
        unknownFields(root, TOP_LEVEL, "", problems);
        String apiVersion = Json.text(root, "apiVersion"), kind = Json.text(root, "kind");
        if (root.has("apiVersion") && !"lockkeeper.dev/v1".equals(apiVersion))
            problems.add("apiVersion must be lockkeeper.dev/v1");
        if (root.has("kind") && !"Policy".equals(kind)) problems.add("kind must be Policy");
        Set<String> excluded = new HashSet<>(strings(root.path("excludedNamespaces"), "excludedNamespaces", problems));
        Map<String, EnforcementMode> modes = modes(root.path("rules"), problems);
        Policy.Export export = export(root.path("export"), problems);
        Policy.Restore restore = restore(root.path("restore"), problems);
        Policy.Limits limits = limits(root.path("limits"), problems);
        if (!problems.isEmpty()) throw new PolicyException(source + ": " + String.join("; ", problems));
        return new Policy(modes, excluded, export, restore, limits);
    }

    private Map<String, EnforcementMode> modes(JsonNode rules, List<String> problems) {
        Map<String, EnforcementMode> modes = new HashMap<>();
        if (rules.isMissingNode() || rules.isNull()) return modes;
        if (!rules.isObject()) {
            problems.add("rules must map rule names to deny, warn or off");
            return modes;
        }
        for (var entry : rules.properties()) {
            String rule = entry.getKey();
            if (!knownRules.contains(rule)) {
                problems.add("rules." + rule + ": no such rule (known: " + String.join(", ", new TreeSet<>(knownRules))
                        + ")");
                continue;
            }
            JsonNode value = entry.getValue();
            // YAML 1.1 reads an unquoted `off` as false; that is what an admin means by it.
            if (value.isBoolean() && !value.asBoolean()) {
                modes.put(rule, EnforcementMode.OFF);
                continue;
            }
            try {
                modes.put(rule, EnforcementMode.parse(value.asText()));
            } catch (IllegalArgumentException e) {
                problems.add("rules." + rule + ": " + e.getMessage());
            }
        }
        return modes;
    }

    private static Policy.Export export(JsonNode node, List<String> problems) {
        if (node.isMissingNode() || node.isNull()) return Policy.Export.DEFAULT;
        unknownFields(node, Set.of("minTokenLength", "maxTtl", "exporterCreators"), "export.", problems);
        int minTokenLength = Policy.Export.DEFAULT.minTokenLength();
        if (node.has("minTokenLength")) {
            JsonNode value = node.get("minTokenLength");
            if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 1 || value.asInt() > 4096) {
                problems.add("export.minTokenLength must be a whole number from 1 to 4096");
            } else {
                minTokenLength = value.asInt();
            }
        }
        Duration maxTtl = Policy.Export.DEFAULT.maxTtl();
        if (node.has("maxTtl")) {
            Duration parsed = GoDuration.parse(node.get("maxTtl").asText());
            if (parsed == null || parsed.isZero() || parsed.isNegative())
                problems.add("export.maxTtl must be a positive duration like 30m, 24h");
            else maxTtl = parsed;
        }
        List<String> creators = node.has("exporterCreators")
                ? strings(node.get("exporterCreators"), "export.exporterCreators", problems)
                : Policy.Export.DEFAULT.exporterCreators();
        return new Policy.Export(minTokenLength, maxTtl, creators);
    }

    private static Policy.Restore restore(JsonNode node, List<String> problems) {
        if (node.isMissingNode() || node.isNull()) return Policy.Restore.DEFAULT;
        unknownFields(node, Set.of("markerLabels", "markerAnnotations", "veleroNamespace"), "restore.", problems);
        List<String> labels = node.has("markerLabels")
                ? strings(node.get("markerLabels"), "restore.markerLabels", problems)
                : Policy.Restore.DEFAULT.markerLabels();
        List<String> annotations = strings(node.path("markerAnnotations"), "restore.markerAnnotations", problems);
        if (labels.isEmpty() && annotations.isEmpty())
            problems.add("restore needs at least one marker label or annotation");
        String veleroNamespace = Policy.Restore.DEFAULT.veleroNamespace();
        if (node.has("veleroNamespace")) {
            veleroNamespace = node.get("veleroNamespace").asText("");
            if (!veleroNamespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"))
                problems.add("restore.veleroNamespace must be a namespace name");
        }
        return new Policy.Restore(labels, annotations, veleroNamespace);
    }

    private static Policy.Limits limits(JsonNode node, List<String> problems) {
        Policy.Limits defaults = Policy.Limits.DEFAULT;
        if (node.isMissingNode() || node.isNull()) return defaults;
        unknownFields(
                node,
                Set.of(
                        "defaultTimeout",
                        "answerReserve",
                        "maxInterfaces",
                        "maxDisks",
                        "maxVolumes",
                        "maxDataVolumeTemplates",
                        "maxAnnotationBytes",
                        "maxObjectBytes"),
                "limits.",
                problems);
        Duration defaultTimeout = duration(node, "defaultTimeout", defaults.defaultTimeout(), problems);
        Duration answerReserve = duration(node, "answerReserve", defaults.answerReserve(), problems);
        if (defaultTimeout.isZero() || defaultTimeout.compareTo(Policy.Limits.LONGEST_TIMEOUT) > 0) {
            problems.add(
                    "limits.defaultTimeout must be above 0 and at most 30s (the API server's longest webhook timeout)");
            defaultTimeout = defaults.defaultTimeout();
        }
        return new Policy.Limits(
                defaultTimeout,
                answerReserve,
                count(node, "maxInterfaces", defaults.maxInterfaces(), problems),
                count(node, "maxDisks", defaults.maxDisks(), problems),
                count(node, "maxVolumes", defaults.maxVolumes(), problems),
                count(node, "maxDataVolumeTemplates", defaults.maxDataVolumeTemplates(), problems),
                count(node, "maxAnnotationBytes", defaults.maxAnnotationBytes(), problems),
                count(node, "maxObjectBytes", defaults.maxObjectBytes(), problems));
    }

    /** A whole number from 1 to 2^31-1 at {@code field}, or {@code otherwise} when absent. */
    private static int count(JsonNode node, String field, int otherwise, List<String> problems) {
        if (!node.has(field)) return otherwise;
        JsonNode value = node.get(field);
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 1) {
            problems.add("limits." + field + " must be a whole number from 1 to " + Integer.MAX_VALUE);
            return otherwise;
        }
        return value.asInt();
    }

    /** A non-negative Go duration ("500ms", "3s") at {@code field}, or {@code otherwise} when absent. */
    private static Duration duration(JsonNode node, String field, Duration otherwise, List<String> problems) {
        if (!node.has(field)) return otherwise;
        Duration parsed =
                node.get(field).isTextual() ? GoDuration.parse(node.get(field).asText()) : null;
        if (parsed == null || parsed.isNegative()) {
            problems.add("limits." + field + " must be a duration like 500ms or 3s");
            return otherwise;
        }
        return parsed;
    }

    private static List<String> strings(JsonNode node, String field, List<String> problems) {
        List<String> values = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) return values;
        if (!node.isArray()) {
            problems.add(field + " must be a list of strings");
            return values;
        }
        for (JsonNode item : node) {
            if (!item.isTextual() || item.asText().isBlank())
                problems.add(field + " must be a list of non-empty strings");
            else values.add(item.asText());
        }
        return values;
    }

    private static void unknownFields(JsonNode node, Set<String> allowed, String prefix, List<String> problems) {
        if (!node.isObject()) {
            problems.add(
                    (prefix.isEmpty() ? "policy" : prefix.substring(0, prefix.length() - 1)) + " must be a mapping");
            return;
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) problems.add(prefix + name + ": unknown field");
        }
    }
}
