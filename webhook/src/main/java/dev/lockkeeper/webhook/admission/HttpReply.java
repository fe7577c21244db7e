package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import java.nio.charset.StandardCharsets;

/** An HTTP status and JSON body, produced without any HTTP library. */
public record HttpReply(int status, byte[] body) {

    public static HttpReply ok(ObjectNode json) {
        return new HttpReply(200, json.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A {@code metav1.Status} failure body, the shape Kubernetes clients already understand. */
    public static HttpReply error(int status, String reason, String message) {
        ObjectNode body = Json.object();
        body.put("kind", "Status")
                .put("apiVersion", "v1")
                .put("status", "Failure")
                .put("message", message)
                .put("reason", reason)
                .put("code", status);
        return new HttpReply(status, body.toString().getBytes(StandardCharsets.UTF_8));
    }
}
