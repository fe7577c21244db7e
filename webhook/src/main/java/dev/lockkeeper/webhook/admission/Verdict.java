package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** What one rule decided. Policy outcomes are values, never exceptions. */
public sealed interface Verdict {

    List<String> warnings();

    /**
     * Allowed; {@code mutated} is the changed object (a deep copy) or null when nothing changed, and {@code patch} the
     * JSON Patch from the object the rule saw to {@code mutated}, as the rule's {@link ObjectEdit} built it (no
     * whole-object diff: that costs time quadratic in list lengths).
     */
    record Allow(List<String> warnings, ObjectNode mutated, ArrayNode patch) implements Verdict {
        public Allow {
            warnings = List.copyOf(warnings);
            if ((mutated == null) != (patch == null))
                throw new IllegalArgumentException("a changed object comes with its patch");
        }
    }

    /** Denied with an HTTP-style status code (403 authorization, 422 invalid spec). */
    record Deny(int code, String reason, String message, List<Cause> causes, List<String> warnings) implements Verdict {
        public Deny {
            causes = List.copyOf(causes);
            warnings = List.copyOf(warnings);
        }
    }

    static Allow allow() {
        return new Allow(List.of(), null, null);
    }

    static Allow allow(List<String> warnings) {
        return new Allow(warnings, null, null);
    }

    static Deny forbidden(String message, Cause... causes) {
        return new Deny(403, "Forbidden", message, List.of(causes), List.of());
    }

    static Deny invalid(String message, Cause... causes) {
        return new Deny(422, "Invalid", message, List.of(causes), List.of());
    }

    /** A 422 whose message joins the causes, as CDI's {@code toRejectedAdmissionResponse} does. */
    static Deny invalid(List<Cause> causes) {
        List<String> messages = new ArrayList<>();
        causes.forEach(c -> messages.add(c.message()));
        return new Deny(422, "Invalid", String.join("; ", messages), causes, List.of());
    }
}
