package dev.lockkeeper.webhook.admission;

/** A {@code metav1.StatusCause}: which field is wrong and why. */
public record Cause(String type, String field, String message) {
    public static final String FIELD_VALUE_INVALID = "FieldValueInvalid";
    public static final String FIELD_VALUE_NOT_FOUND = "FieldValueNotFound";
    public static final String FIELD_VALUE_FORBIDDEN = "FieldValueForbidden";

    public static Cause invalid(String field, String message) {
        return new Cause(FIELD_VALUE_INVALID, field, message);
    }

    public static Cause notFound(String field, String message) {
        return new Cause(FIELD_VALUE_NOT_FOUND, field, message);
    }

    public static Cause forbidden(String field, String message) {
        return new Cause(FIELD_VALUE_FORBIDDEN, field, message);
    }
}
