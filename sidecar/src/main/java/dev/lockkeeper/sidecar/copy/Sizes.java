package dev.lockkeeper.sidecar.copy;

import java.util.Locale;

/** Byte counts for messages: exact bytes for machines, a binary unit for people. */
public final class Sizes {
    private Sizes() {}

    public static String describe(long bytes) {
        return bytes + " bytes (" + human(bytes) + ")";
    }

    public static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
