package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads Kubernetes objects from YAML (multi-document) and JSON files, expanding {@code List} kinds. */
public final class Manifests {
    private Manifests() {}

    public static List<ObjectNode> readDirectory(Path dir) {
        if (!Files.isDirectory(dir))
            throw new ManifestException("cluster directory " + dir + " does not exist or is not a directory");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(Manifests::isManifest)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new ManifestException("cannot list " + dir + ": " + e.getMessage());
        }
        List<ObjectNode> objects = new ArrayList<>();
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                objects.addAll(read(file.toString(), in));
            } catch (IOException e) {
                throw new ManifestException("cannot read " + file + ": " + e.getMessage());
            }
        }
        return objects;
    }

    /** Every Kubernetes object in one YAML or JSON stream (JSON is YAML, so one parser reads both). */
    public static List<ObjectNode> read(String source, InputStream in) {
        List<ObjectNode> objects = new ArrayList<>();
        List<JsonNode> documents = documents(source, in);
        for (int i = 0; i < documents.size(); i++) collect(source + " document " + (i + 1), documents.get(i), objects);
        return objects;
    }

    /** The non-empty documents of a YAML or JSON stream, unchecked. */
    public static List<JsonNode> documents(String source, InputStream in) {
        List<JsonNode> found = new ArrayList<>();
        int document = 0;
        try (MappingIterator<JsonNode> documents =
                Json.YAML.readerFor(JsonNode.class).readValues(in)) {
            while (documents.hasNextValue()) {
                document++;
                JsonNode node = documents.nextValue();
                // A document holding only comments reads as an empty string.
                boolean empty = node == null
                        || node.isNull()
                        || node.isMissingNode()
                        || (node.isTextual() && node.asText().isBlank());
                if (!empty) found.add(node);
            }
        } catch (JacksonException e) {
            throw new ManifestException(
                    source + " document " + Math.max(document, 1) + ": not valid YAML/JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ManifestException("cannot read " + source + ": " + e.getMessage());
        }
        return found;
    }

    private static void collect(String where, JsonNode node, List<ObjectNode> into) {
        if (!(node instanceof ObjectNode object))
            throw new ManifestException(where + ": expected a Kubernetes object, got " + node.getNodeType());
        String kind = Json.text(object, "kind");
        if (Json.text(object, "apiVersion").isEmpty()) throw new ManifestException(where + ": apiVersion is missing");
        if (kind.isEmpty()) throw new ManifestException(where + ": kind is missing");
        if (kind.endsWith("List") && object.has("items")) {
            JsonNode items = object.get("items");
            if (!items.isArray()) throw new ManifestException(where + ": " + kind + ".items must be an array");
            for (int i = 0; i < items.size(); i++) collect(where + " item " + i, items.get(i), into);
            return;
        }
        if (Json.text(object, "metadata", "name").isEmpty())
            throw new ManifestException(where + ": " + kind + " has no metadata.name");
        into.add(object);
    }

    private static boolean isManifest(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }
}
