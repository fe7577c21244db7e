package dev.lockkeeper.webhook.policy;

import java.time.Duration;
import java.util.Map;

/**
 * Go's {@code time.ParseDuration} ({@code 2h}, {@code 1h30m}, {@code 1.5h}, {@code -90s}), as Kubernetes reads
 * {@code metav1.Duration} fields. Ported step for step from Go's {@code time/format.go} so the same text gives the same
 * duration or the same refusal: magnitudes are unsigned 64-bit with Go's overflow checks (a value beyond int64
 * nanoseconds is invalid, never wrapped), and a fraction is applied through a float64 as Go does, so that
 * {@code 0.3333333333333333333h} is exactly 20 minutes.
 */
public final class GoDuration {
    /** 1<<63 as an unsigned 64-bit value: the largest magnitude (of a negative duration) Go accepts. */
    private static final long LIMIT = Long.MIN_VALUE;

    private static final long MAX_FRACTION_DIGITS_VALUE = Long.MAX_VALUE / 10;
    private static final Map<String, Long> NANOS = Map.of(
            "ns",
            1L,
            "us",
            1_000L,
            "µs",
            1_000L,
            "μs",
            1_000L,
            "ms",
            1_000_000L,
            "s",
            1_000_000_000L,
            "m",
            60_000_000_000L,
            "h",
            3_600_000_000_000L);

    private GoDuration() {}

    /** The duration, or null when Go's {@code time.ParseDuration} would return an error for {@code text}. */
    public static Duration parse(String text) {
        if (text == null) return null;
        String s = text;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) return Duration.ZERO;
        if (s.isEmpty()) return null;
        long total = 0;
        int i = 0;
        while (i < s.length()) {
            char first = s.charAt(i);
            if (first != '.' && !isDigit(first)) return null;
            long whole = 0;
            int start = i;
            for (; i < s.length() && isDigit(s.charAt(i)); i++) {
                if (Long.compareUnsigned(whole, Long.divideUnsigned(LIMIT, 10)) > 0) return null;
                whole = whole * 10 + (s.charAt(i) - '0');
                if (Long.compareUnsigned(whole, LIMIT) > 0) return null;
            }
            boolean digitsBefore = i != start;
            long fraction = 0;
            double scale = 1;
            boolean digitsAfter = false;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int fractionStart = i;
                boolean overflow = false;
                for (; i < s.length() && isDigit(s.charAt(i)); i++) {
                    // digits past int64 precision are read and dropped, as Go's leadingFraction does
                    if (overflow) continue;
                    if (fraction > MAX_FRACTION_DIGITS_VALUE) {
                        overflow = true;
                        continue;
                    }
                    long next = fraction * 10 + (s.charAt(i) - '0');
                    if (Long.compareUnsigned(next, LIMIT) > 0) {
                        overflow = true;
                        continue;
                    }
                    fraction = next;
                    scale *= 10;
                }
                digitsAfter = i != fractionStart;
            }
            if (!digitsBefore && !digitsAfter) return null;
            int unitStart = i;
            while (i < s.length() && s.charAt(i) != '.' && !isDigit(s.charAt(i))) i++;
            Long unit = NANOS.get(s.substring(unitStart, i));
            if (unit == null) return null;
            if (Long.compareUnsigned(whole, Long.divideUnsigned(LIMIT, unit)) > 0) return null;
            long value = whole * unit;
            if (fraction > 0) {
                value += (long) (unsignedToDouble(fraction) * ((double) unit / scale));
                if (Long.compareUnsigned(value, LIMIT) > 0) return null;
            }
            total += value;
            if (Long.compareUnsigned(total, LIMIT) > 0) return null;
        }
        if (negative) return Duration.ofNanos(-total);
        if (Long.compareUnsigned(total, Long.MAX_VALUE) > 0) return null;
        return Duration.ofNanos(total);
    }

    /** Go's {@code float64(uint64)}: Java's cast would read a value at or above 2^63 as negative. */
    private static double unsignedToDouble(long value) {
        return value >= 0 ? value : ((double) (value >>> 1)) * 2 + (value & 1);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
