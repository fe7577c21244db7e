package dev.lockkeeper.webhook.admission;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every response small whatever the object: a VirtualMachine with 10,000 refused templates must not
 * become a 10 MB denial that the API server relays to kubectl, logs and audit events. A message is cut at
 * {@value #MAX_MESSAGE} characters saying how much was left out; the first {@value #MAX_CAUSES} causes are
 * kept (each cut at {@value #MAX_CAUSE_MESSAGE}) and one more cause says how many followed.
 */
public final class ResponseBounds {
    public static final int MAX_MESSAGE = 4096;
    public static final int MAX_CAUSES = 20;
    public static final int MAX_CAUSE_MESSAGE = 512;

    private ResponseBounds() {}

    public static String message(String message) {
        return cut(message, MAX_MESSAGE);
    }

    public static List<Cause> causes(List<Cause> causes) {
        List<Cause> kept = new ArrayList<>(Math.min(causes.size(), MAX_CAUSES + 1));
        for (Cause cause : causes.subList(0, Math.min(causes.size(), MAX_CAUSES))) {
            kept.add(new Cause(
                    cause.type(), cut(cause.field(), MAX_CAUSE_MESSAGE), cut(cause.message(), MAX_CAUSE_MESSAGE)));
        }
        if (causes.size() > MAX_CAUSES) {
            Cause first = causes.get(MAX_CAUSES);
            kept.add(new Cause(first.type(), "", "and " + (causes.size() - MAX_CAUSES) + " more"));
        }
        return kept;
    }

    private static String cut(String text, int limit) {
        if (text.length() <= limit) return text;
        String note = " … (" + (text.length() - limit) + " more characters)";
        return text.substring(0, limit - note.length()) + note;
    }
}
