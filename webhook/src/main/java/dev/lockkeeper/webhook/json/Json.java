package dev.lockkeeper.webhook.json;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.Optional;

/** The one JSON/YAML configuration of the webhook, and small tree helpers rules share. */
public final class Json {
    // Nesting is capped well below Jackson's default so hostile bodies fail fast with a 400.
    private static final StreamReadConstraints LIMITS =
            StreamReadConstraints.builder().maxNestingDepth(200).build();

    /**
     * Tokens in one review. The intake budget counts bytes, but a body of tiny tokens ({@code [[],[],...]}) grows about
     * 30-fold once parsed; real reviews have one token per 4-8 bytes, so the largest the API server sends (two 2.9 MB
     * objects on UPDATE, ~750,000 tokens) fits, and a hostile 7 MiB body stops at ~32 MiB of parsed nodes.
     */
    public static final long MAX_REVIEW_TOKENS = 1_000_000;

    private static final StreamReadConstraints REVIEW_LIMITS =
            LIMITS.rebuild().maxTokenCount(MAX_REVIEW_TOKENS).build();

    /**
     * Strict: a duplicate key is refused (the API server's decoder would not let "bob then alice" pick
     * a user) and so is anything after the first document (two reviews in one body).
     */
    public static final ObjectMapper MAPPER = JsonMapper.builder(com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(REVIEW_LIMITS)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    public static final ObjectMapper YAML = YAMLMapper.builder(
                    YAMLFactory.builder().streamReadConstraints(LIMITS).build())
            .build();

    private Json() {}

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** Text at a dotted path, or empty when absent, null, or not text. */
    public static String text(JsonNode node, String... path) {
        JsonNode current = at(node, path);
        return current.isTextual() ? current.asText() : "";
    }

    public static JsonNode at(JsonNode node, String... path) {
        JsonNode current = node == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node;
        for (String step : path) current = current.path(step);
        return current;
    }

    public static Optional<ObjectNode> objectAt(JsonNode node, String... path) {
        JsonNode found = at(node, path);
        return found instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
    }

    public static String annotation(JsonNode object, String key) {
        return text(object, "metadata", "annotations", key);
    }

    public static boolean hasAnnotation(JsonNode object, String key) {
        return at(object, "metadata", "annotations").has(key);
    }
}
