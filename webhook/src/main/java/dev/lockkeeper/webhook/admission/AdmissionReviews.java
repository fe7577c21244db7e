package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads {@code admission.k8s.io/v1} AdmissionReview requests and writes their responses. */
public final class AdmissionReviews {
    public static final String API_VERSION = "admission.k8s.io/v1";
    public static final String KIND = "AdmissionReview";

    private AdmissionReviews() {}

    public static AdmissionRequest parse(byte[] body) throws BadAdmissionReview {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JacksonException e) {
            throw new BadAdmissionReview("malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new BadAdmissionReview("unreadable body: " + e.getMessage());
        }
        return parse(root);
    }

    public static AdmissionRequest parse(JsonNode root) throws BadAdmissionReview {
        if (root == null || !root.isObject())
            throw new BadAdmissionReview("body must be a JSON object (an AdmissionReview)");
        String apiVersion = root.path("apiVersion").asText("");
        String kind = root.path("kind").asText("");
        if (!API_VERSION.equals(apiVersion) || !KIND.equals(kind)) {
            throw new BadAdmissionReview("expected apiVersion " + API_VERSION + " kind " + KIND + ", got apiVersion \""
                    + apiVersion + "\" kind \"" + kind + "\"");
        }
        JsonNode request = root.get("request");
        if (request == null || request.isNull()) throw new BadAdmissionReview("AdmissionReview.request is missing");
        if (!request.isObject()) throw new BadAdmissionReview("request must be an object");
        String uid = requiredText(request, "uid");
        JsonNode kindNode = requiredObject(request, "kind");
        JsonNode resourceNode = requiredObject(request, "resource");
        var gvk = new GroupVersionKind(
                optionalText(kindNode, "group", "request.kind"),
                requiredText(kindNode, "version", "request.kind"),
                requiredText(kindNode, "kind", "request.kind"));
        var gvr = new GroupVersionResource(
                optionalText(resourceNode, "group", "request.resource"),
                requiredText(resourceNode, "version", "request.resource"),
                requiredText(resourceNode, "resource", "request.resource"));
        Operation operation = operation(requiredText(request, "operation"));
        ObjectNode object = optionalObject(request, "object");
        ObjectNode oldObject = optionalObject(request, "oldObject");
        if ((operation == Operation.CREATE || operation == Operation.UPDATE) && object == null) {
            throw new BadAdmissionReview("request.object is required for " + operation);
        }
        if (operation == Operation.UPDATE && oldObject == null) {
            throw new BadAdmissionReview("request.oldObject is required for UPDATE");
        }
        JsonNode dryRun = request.path("dryRun");
        if (!dryRun.isMissingNode() && !dryRun.isNull() && !dryRun.isBoolean()) {
            throw new BadAdmissionReview("request.dryRun must be a boolean");
        }
        return new AdmissionRequest(
                uid,
                gvk,
                gvr,
                optionalText(request, "subResource", "request"),
                operation,
                optionalText(request, "namespace", "request"),
                optionalText(request, "name", "request"),
                userInfo(request.path("userInfo")),
                object,
                oldObject,
                dryRun.asBoolean(false));
    }

    /** The response document for {@code uid}; a validating response never carries a patch. */
    public static ObjectNode render(String uid, Decision decision, boolean mutating) {
        ObjectNode review = Json.object();
        review.put("apiVersion", API_VERSION).put("kind", KIND);
        ObjectNode response = review.putObject("response");
        response.put("uid", uid).put("allowed", decision.allowed());
        if (!decision.allowed()) {
            ObjectNode status = response.putObject("status");
            status.put("code", decision.code()).put("message", ResponseBounds.message(decision.message()));
            if (!decision.reason().isEmpty()) status.put("reason", decision.reason());
            if (!decision.causes().isEmpty()) {
                ArrayNode causes = status.putObject("details").putArray("causes");
                for (Cause cause : ResponseBounds.causes(decision.causes())) {
                    causes.addObject()
                            .put("type", cause.type())
                            .put("message", cause.message())
                            .put("field", cause.field());
                }
            }
        }
        if (mutating && decision.allowed() && decision.patched()) {
            response.put("patchType", "JSONPatch");
            byte[] patch = decision.patch().toString().getBytes(StandardCharsets.UTF_8);
            response.put("patch", Base64.getEncoder().encodeToString(patch));
        }
        List<String> warnings = Warnings.normalize(decision.warnings());
        if (!warnings.isEmpty()) warnings.forEach(response.putArray("warnings")::add);
        return review;
    }

    private static Operation operation(String value) throws BadAdmissionReview {
        try {
            return Operation.valueOf(value);
        } catch (IllegalArgumentException e) {
            throw new BadAdmissionReview(
                    "request.operation must be one of CREATE, UPDATE, DELETE, CONNECT; got \"" + value + "\"");
        }
    }

    private static UserInfo userInfo(JsonNode node) throws BadAdmissionReview {
        if (node.isMissingNode() || node.isNull()) return new UserInfo("", "", List.of(), Map.of());
        if (!node.isObject()) throw new BadAdmissionReview("request.userInfo must be an object");
        List<String> groups = stringList(node.path("groups"), "request.userInfo.groups");
        Map<String, List<String>> extra = new LinkedHashMap<>();
        JsonNode extraNode = node.path("extra");
        if (!extraNode.isMissingNode() && !extraNode.isNull()) {
            if (!extraNode.isObject()) throw new BadAdmissionReview("request.userInfo.extra must be an object");
            for (var entry : extraNode.properties()) {
                extra.put(entry.getKey(), stringList(entry.getValue(), "request.userInfo.extra." + entry.getKey()));
            }
        }
        return new UserInfo(
                optionalText(node, "username", "request.userInfo"),
                optionalText(node, "uid", "request.userInfo"),
                groups,
                extra);
    }

    private static List<String> stringList(JsonNode node, String where) throws BadAdmissionReview {
        List<String> values = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) return values;
        if (!node.isArray()) throw new BadAdmissionReview(where + " must be an array of strings");
        for (JsonNode item : node) {
            if (!item.isTextual()) throw new BadAdmissionReview(where + " must be an array of strings");
            values.add(item.asText());
        }
        return values;
    }

    private static String requiredText(JsonNode node, String field) throws BadAdmissionReview {
        return requiredText(node, field, "request");
    }

    private static String requiredText(JsonNode node, String field, String where) throws BadAdmissionReview {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) throw new BadAdmissionReview(where + "." + field + " is missing");
        if (!value.isTextual() || value.asText().isEmpty())
            throw new BadAdmissionReview(where + "." + field + " must be a non-empty string");
        return value.asText();
    }

    private static String optionalText(JsonNode node, String field, String where) throws BadAdmissionReview {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return "";
        if (!value.isTextual()) throw new BadAdmissionReview(where + "." + field + " must be a string");
        return value.asText();
    }

    private static JsonNode requiredObject(JsonNode node, String field) throws BadAdmissionReview {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) throw new BadAdmissionReview("request." + field + " is missing");
        if (!value.isObject()) throw new BadAdmissionReview("request." + field + " must be an object");
        return value;
    }

    private static ObjectNode optionalObject(JsonNode node, String field) throws BadAdmissionReview {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isObject()) throw new BadAdmissionReview("request." + field + " must be an object");
        return (ObjectNode) value;
    }
}
