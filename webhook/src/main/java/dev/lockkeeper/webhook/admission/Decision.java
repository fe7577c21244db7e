package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;

/**
 * What a whole chain decided for one request: the content of an AdmissionReview response.
 * {@code patch} is a JSON Patch (RFC 6902) array, present only for a mutating chain that changed
 * the object.
 */
public record Decision(
        boolean allowed,
        int code,
        String reason,
        String message,
        List<Cause> causes,
        List<String> warnings,
        ArrayNode patch,
        String decidedBy) {

    public Decision {
        causes = List.copyOf(causes);
        warnings = List.copyOf(warnings);
    }

    public static Decision allowed(List<String> warnings, ArrayNode patch) {
        return new Decision(true, 200, "", "", List.of(), warnings, patch, "");
    }

    public static Decision denied(Verdict.Deny deny, List<String> warnings, String rule) {
        return new Decision(false, deny.code(), deny.reason(), deny.message(), deny.causes(), warnings, null, rule);
    }

    /** A rule failed unexpectedly: deny (fail closed) with a 500 that still answers the request. */
    public static Decision errored(String rule, String message) {
        return new Decision(false, 500, "InternalError", message, List.of(), List.of(), null, rule);
    }

    /** A rule that fails closed did not finish within the review's deadline: deny with a 504, as a gateway timeout reads. */
    public static Decision timedOut(String rule, String message) {
        return new Decision(false, 504, "Timeout", message, List.of(), List.of(), null, rule);
    }

    public boolean patched() {
        return patch != null && !patch.isEmpty();
    }

    /** The label metrics and logs use: allowed, patched, denied, timeout or error. */
    public String outcome() {
        if (allowed) return patched() ? "patched" : "allowed";
        return switch (code) {
            case 500 -> "error";
            case 504 -> "timeout";
            default -> "denied";
        };
    }
}
