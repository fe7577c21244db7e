package dev.lockkeeper.sidecar.cli;

import java.util.Locale;

/** Byte sizes on the command line: {@code 64M}, {@code 1.5G}. */
public final class Units {
    private Units() {}

    /** Parses {@code 123}, {@code 64K}, {@code 100M}, {@code 1.5G}, {@code 2T} (binary multiples). */
    public static long parseSize(String text) {
        String trimmed = text.trim().toUpperCase(Locale.ROOT).replaceAll("I?B$", "");
        int shift = switch (trimmed.isEmpty() ? ' ' : trimmed.charAt(trimmed.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> 0;
        };
        String number = shift == 0 ? trimmed : trimmed.substring(0, trimmed.length() - 1);
        double value;
        try {
            value = Double.parseDouble(number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 4096, 64K, 100M, 1.5G)");
        }
        if (value < 0) throw new IllegalArgumentException("a size cannot be negative: " + text);
        return Math.round(value * (1L << shift));
    }
}
