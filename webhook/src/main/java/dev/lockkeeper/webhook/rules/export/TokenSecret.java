package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The export token named by {@code spec.tokenSecretRef}: the {@code token} key of that Secret in the export's namespace. */
sealed interface TokenSecret {
    record NotReferenced() implements TokenSecret {}

    record Missing(String secret) implements TokenSecret {}

    record NoTokenKey(String secret) implements TokenSecret {}

    record Present(String secret, String token) implements TokenSecret {}

    static TokenSecret of(JsonNode export, String namespace, ClusterView cluster) {
        String name = Json.text(export, "spec", "tokenSecretRef");
        if (name.isEmpty()) return new NotReferenced();
        var secret = cluster.read(ResourceType.SECRET, namespace, name);
        if (secret.isEmpty()) return new Missing(name);
        JsonNode data = secret.get().path("data").path("token");
        JsonNode plain = secret.get().path("stringData").path("token");
        if (data.isTextual()) {
            try {
                return new Present(name, new String(Base64.getDecoder().decode(data.asText()), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return new NoTokenKey(name);
            }
        }
        return plain.isTextual() ? new Present(name, plain.asText()) : new NoTokenKey(name);
    }
}
