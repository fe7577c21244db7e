package dev.lockkeeper.webhook.admission;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rule that trips over a field of the wrong type (a string where an object belongs) is reading a
 * malformed object, not failing: the answer is a 422 that names the field, never a 500 showing
 * Java class names. The API server validates built-in kinds before webhooks see them, but custom
 * resources without a structural schema, and forged reviews, can carry anything.
 */
final class WrongType {
    // Jackson's ObjectNode.withObject/withArray wording: "Cannot replace `JsonNode` of type ... for property "firmware"
    // ..."
    private static final Pattern PROPERTY = Pattern.compile("for property \"([^\"]{1,200})\"");

    private WrongType() {}

    /** The 422 for a type failure, or null when {@code failure} is something else (a real bug: a 500). */
    static Decision decision(String rule, RuntimeException failure) {
        if (!(failure instanceof ClassCastException || failure instanceof UnsupportedOperationException)) return null;
        Matcher named = PROPERTY.matcher(String.valueOf(failure.getMessage()));
        String field = named.find() ? named.group(1) : "";
        String message = (field.isEmpty() ? "a field" : "field \"" + field + "\"") + " has the wrong type for rule "
                + rule + " (it reads an object or a list there)";
        return Decision.denied(
                new Verdict.Deny(422, "Invalid", message, List.of(Cause.invalid(field, message)), List.of()),
                List.of(),
                rule);
    }
}
