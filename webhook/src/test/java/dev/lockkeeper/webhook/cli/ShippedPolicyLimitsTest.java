package dev.lockkeeper.webhook.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.Rulebook;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The Deployment's policy writes the limits out; what it says must be what the server would use without it. */
class ShippedPolicyLimitsTest {
    @Test
    void theShippedLimitsAreTheDefaults() throws Exception {
        JsonNode configMap = Json.YAML.readTree(Files.readString(Path.of("../manifests/base/policy.yaml")));
        String policy = configMap.path("data").path("policy.yaml").asText();
        assertTrue(policy.contains("\nlimits:\n"), policy);
        assertEquals(
                Policy.Limits.DEFAULT,
                Rulebook.policyParser()
                        .parse("manifests/base/policy.yaml", policy)
                        .limits());
    }
}
