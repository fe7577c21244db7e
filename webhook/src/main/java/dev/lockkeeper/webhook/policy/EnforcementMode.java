package dev.lockkeeper.webhook.policy;

import java.util.Locale;

/** How a rule's decision is applied: enforced, reported as a warning only, or not evaluated. */
public enum EnforcementMode {
    DENY,
    WARN,
    OFF;

    public static EnforcementMode parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "deny" -> DENY;
            case "warn" -> WARN;
            case "off" -> OFF;
            default -> throw new IllegalArgumentException("\"" + text + "\" is not a mode; use deny, warn or off");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
