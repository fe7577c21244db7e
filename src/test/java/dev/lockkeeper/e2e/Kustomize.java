package dev.lockkeeper.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code kubectl kustomize DIR} renders, for the features manifests/ uses, with no kustomize binary: resources
 * (files, or directories rendered in turn), components, patches (a JSON Patch, a strategic-merge patch of maps only,
 * or {@code $patch: delete}) whose target selects by group, version, kind, name and labelSelector, labels on
 * metadata only, and images in pod templates, in kustomize's order. Anything else in a kustomization is refused, so a
 * feature this does not know never renders differently here without notice; DeployManifestsTest compares the result
 * with kubectl's where kubectl is installed.
 */
final class Kustomize {
    private static final Set<String> KNOWN_FIELDS =
            Set.of("apiVersion", "kind", "labels", "resources", "components", "patches", "images");

    private static final Set<String> PATCH_IDENTITY =
            Set.of("/apiVersion", "/kind", "/metadata/name", "/metadata/namespace");

    private Kustomize() {}

    static List<ObjectNode> render(Path dir) {
        return build(dir, new ArrayList<>(), "Kustomization");
    }

    /** Adds {@code dir}'s resources to {@code objects} and runs its transformers over them (a Component's over all). */
    private static List<ObjectNode> build(Path dir, List<ObjectNode> objects, String kind) {
        JsonNode kustomization = read(dir.resolve("kustomization.yaml"));
        String where = dir.resolve("kustomization.yaml").toString();
        require(
                kustomization.path("kind").asText("Kustomization").equals(kind),
                where + " must be a " + kind + " here");
        kustomization
                .fieldNames()
                .forEachRemaining(
                        field -> require(KNOWN_FIELDS.contains(field), where + ": " + field + " unsupported"));
        for (JsonNode resource : kustomization.path("resources")) {
            Path path = dir.resolve(resource.asText()).normalize();
            if (Files.isDirectory(path)) {
                objects.addAll(render(path));
                continue;
            }
            try (InputStream in = Files.newInputStream(path)) {
                objects.addAll(Manifests.read(resource.asText(), in));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (JsonNode component : kustomization.path("components"))
            objects = build(dir.resolve(component.asText()).normalize(), objects, "Component");
        for (JsonNode patch : kustomization.path("patches")) objects = patch(objects, patch, where);
        for (JsonNode labels : kustomization.path("labels")) {
            require(
                    !labels.path("includeSelectors").asBoolean() && !labels.has("includeTemplates"),
                    where + ": labels go on metadata only");
            for (ObjectNode object : objects) {
                ObjectNode metadata = (ObjectNode) object.path("metadata");
                ObjectNode on =
                        metadata.has("labels") ? (ObjectNode) metadata.get("labels") : metadata.putObject("labels");
                labels.path("pairs").properties().forEach(pair -> on.set(pair.getKey(), pair.getValue()));
            }
        }
        for (JsonNode image : kustomization.path("images")) objects.forEach(object -> setImage(object, image));
        return objects;
    }

    private static List<ObjectNode> patch(List<ObjectNode> objects, JsonNode patch, String where) {
        JsonNode body;
        try {
            body = Json.YAML.readTree(patch.path("patch").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean delete = body.path("$patch").asText().equals("delete");
        List<ObjectNode> patched = new ArrayList<>();
        boolean any = false;
        for (ObjectNode object : objects) {
            if (!targets(patch.path("target"), object)) {
                patched.add(object);
                continue;
            }
            any = true;
            if (delete) continue;
            if (body.isArray()) patched.add(withoutEmptyMetadataMaps((ObjectNode) JsonPatch.apply(body, object)));
            else {
                ObjectNode merged = object.deepCopy();
                merge(merged, body, "");
                patched.add(merged);
            }
        }
        require(any, where + ": patch targets nothing: " + patch.path("target"));
        return patched;
    }

    /** kustomize drops the labels or annotations a patch emptied. */
    private static ObjectNode withoutEmptyMetadataMaps(ObjectNode object) {
        ObjectNode metadata = (ObjectNode) object.path("metadata");
        for (String map : List.of("labels", "annotations"))
            if (metadata.path(map).isObject() && metadata.path(map).isEmpty()) metadata.remove(map);
        return object;
    }

    /**
     * A strategic-merge patch as far as maps go (a list would need its merge key, so none is accepted); with a target,
     * kustomize ignores the patch's own kind and name.
     */
    private static void merge(ObjectNode into, JsonNode patch, String path) {
        patch.properties().forEach(field -> {
            String at = path + "/" + field.getKey();
            if (PATCH_IDENTITY.contains(at)) return;
            JsonNode value = field.getValue();
            require(!value.isArray(), "strategic-merge patch of a list at " + at + " is unsupported");
            if (value.isObject() && into.path(field.getKey()).isObject())
                merge((ObjectNode) into.get(field.getKey()), value, at);
            else if (value.isNull()) into.remove(field.getKey());
            else into.set(field.getKey(), value);
        });
    }

    private static boolean targets(JsonNode target, JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        int slash = apiVersion.indexOf('/');
        String group = slash < 0 ? "" : apiVersion.substring(0, slash);
        String version = apiVersion.substring(slash + 1);
        target.fieldNames()
                .forEachRemaining(field -> require(
                        Set.of("group", "version", "kind", "name", "labelSelector")
                                .contains(field),
                        "patch target field " + field + " unsupported"));
        return matches(target.path("group"), group)
                && matches(target.path("version"), version)
                && matches(target.path("kind"), object.path("kind").asText())
                && matches(
                        target.path("name"),
                        object.path("metadata").path("name").asText())
                && selects(
                        target.path("labelSelector").asText(""),
                        object.path("metadata").path("labels"));
    }

    /** kustomize's selector fields are anchored regular expressions. */
    private static boolean matches(JsonNode pattern, String value) {
        return pattern.isMissingNode() || Pattern.matches(pattern.asText(), value);
    }

    /** Label selectors of {@code key}, {@code !key} and {@code key=value} requirements, and-ed. */
    private static boolean selects(String selector, JsonNode labels) {
        if (selector.isBlank()) return true;
        for (String requirement : selector.split(",")) {
            requirement = requirement.strip();
            require(
                    requirement.matches("!?[^!=\\s]+|[^!=\\s]+=[^!=\\s]*"),
                    "label selector requirement " + requirement + " unsupported");
            boolean holds;
            if (requirement.startsWith("!")) holds = !labels.has(requirement.substring(1));
            else if (requirement.contains("=")) {
                String[] pair = requirement.split("=", 2);
                holds = labels.has(pair[0]) && labels.path(pair[0]).asText().equals(pair[1]);
            } else holds = labels.has(requirement);
            if (!holds) return false;
        }
        return true;
    }

    private static void setImage(ObjectNode object, JsonNode image) {
        JsonNode pod = object.path("spec").path("template").path("spec");
        for (String list : List.of("initContainers", "containers")) {
            for (JsonNode container : pod.path(list)) {
                String current = container.path("image").asText();
                String name = current.replaceFirst("[@:][^/]*$", "");
                if (!name.equals(image.path("name").asText())) continue;
                String tag = current.substring(name.length());
                String newName = image.path("newName").asText(name);
                if (image.has("newTag")) tag = ":" + image.path("newTag").asText();
                if (image.has("digest")) tag = "@" + image.path("digest").asText();
                ((ObjectNode) container).put("image", newName + tag);
            }
        }
    }

    private static JsonNode read(Path file) {
        try {
            return Json.YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalStateException(message);
    }

    /** Parses the multi-document YAML that {@code kubectl kustomize} prints. */
    static List<ObjectNode> parse(String yaml) {
        return Manifests.read("kubectl kustomize", new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
    }
}
