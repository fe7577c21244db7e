package dev.lockkeeper.webhook.admission;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The API server shows warnings verbatim to kubectl users and truncates or rejects long ones, so
 * every warning leaves this server as one line of at most {@value #MAX_LENGTH} characters.
 */
public final class Warnings {
    public static final int MAX_LENGTH = 120;
    /** kubectl prints each warning on its own line: beyond this many, one more says how many were left out. */
    public static final int MAX_COUNT = 20;

    private Warnings() {}

    public static List<String> normalize(List<String> warnings) {
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String warning : warnings) {
            // control, line-separator and format characters (bidi overrides, zero-width joiners) could make a
            // warning read as something else in a terminal
            String oneLine = warning.replaceAll("[\\p{Cntrl}\\p{Cf}\\u2028\\u2029]+", " ")
                    .strip();
            if (oneLine.isEmpty()) continue;
            if (oneLine.length() > MAX_LENGTH) oneLine = oneLine.substring(0, MAX_LENGTH - 3) + "...";
            unique.add(oneLine);
        }
        List<String> kept = new ArrayList<>(unique);
        if (kept.size() <= MAX_COUNT) return kept;
        List<String> bounded = new ArrayList<>(kept.subList(0, MAX_COUNT));
        bounded.add("and " + (kept.size() - MAX_COUNT) + " more warnings");
        return bounded;
    }
}
