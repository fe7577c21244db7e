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

    private Warnings() {}

    public static List<String> normalize(List<String> warnings) {
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String warning : warnings) {
            String oneLine = warning.replaceAll("[\\p{Cntrl}\\u2028\\u2029]+", " ").strip();
            if (oneLine.isEmpty()) continue;
            if (oneLine.length() > MAX_LENGTH) oneLine = oneLine.substring(0, MAX_LENGTH - 3) + "...";
            unique.add(oneLine);
        }
        return new ArrayList<>(unique);
    }
}
