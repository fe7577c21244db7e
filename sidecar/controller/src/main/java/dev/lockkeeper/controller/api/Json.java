package dev.lockkeeper.controller.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;

/** Converts between fabric8's generic objects (what informers on custom resources deliver) and the records. */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private Json() {}

    public static VolumeCopy volumeCopy(GenericKubernetesResource resource) {
        return MAPPER.convertValue(resource, VolumeCopy.class);
    }

    public static CopyTaskResource copyTask(GenericKubernetesResource resource) {
        return MAPPER.convertValue(resource, CopyTaskResource.class);
    }

    public static GenericKubernetesResource generic(Object record) {
        return MAPPER.convertValue(record, GenericKubernetesResource.class);
    }

    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }
}
