package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The export token named by {@code spec.tokenSecretRef}: the {@code token} key of that Secret in the export's namespace.
 * Permission first: only a requester who may {@code get} that Secret learns whether it exists or what its token is
 * like, so creating exports is no way to probe Secrets one cannot read.
 */
sealed interface TokenSecret {
    record NotReferenced() implements TokenSecret {}

    record Unreadable(String secret) implements TokenSecret {}

    record Unchecked(String secret, String error) implements TokenSecret {}

    record Missing(String secret) implements TokenSecret {}

    record NoTokenKey(String secret) implements TokenSecret {}

    record Present(String secret, String token) implements TokenSecret {}

    static TokenSecret of(JsonNode export, String namespace, UserInfo requester, ClusterView cluster) {
        String name = Json.text(export, "spec", "tokenSecretRef");
        if (name.isEmpty()) return new NotReferenced();
        var mayRead = new AccessReview(
                requester.username(), requester.groups(), requester.extra(), namespace, "get", "", "secrets", "", name);
        switch (cluster.review(mayRead)) {
            case AccessDecision.Denied denied -> {
                return new Unreadable(name);
            }
            case AccessDecision.Unavailable unavailable -> {
                return new Unchecked(name, unavailable.error());
            }
            case AccessDecision.Allowed allowed -> {}
        }
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
