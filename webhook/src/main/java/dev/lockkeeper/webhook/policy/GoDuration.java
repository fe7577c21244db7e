package dev.lockkeeper.webhook.policy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go's {@code time.ParseDuration} syntax ({@code 2h}, {@code 1h30m}, {@code 1.5h}, {@code -90s}), as Kubernetes writes durations. */
public final class GoDuration {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");
    private static final Map<String, Long> NANOS = Map.of("ns", 1L, "us", 1_000L, "µs", 1_000L, "μs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDuration() {}

    /** The duration, or null when {@code text} is not a Go duration. */
    public static Duration parse(String text) {
        if (text == null) return null;
        String rest = text.strip();
        boolean negative = rest.startsWith("-");
        if (negative || rest.startsWith("+")) rest = rest.substring(1);
        if (rest.equals("0")) return Duration.ZERO;
        if (rest.isEmpty()) return null;
        Matcher matcher = PART.matcher(rest);
        BigDecimal nanos = BigDecimal.ZERO;
        int end = 0;
        while (matcher.find()) {
            if (matcher.start() != end) return null;
            nanos = nanos.add(new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(NANOS.get(matcher.group(2)))));
            end = matcher.end();
        }
        if (end != rest.length()) return null;
        Duration duration = Duration.ofNanos(nanos.longValue());
        return negative ? duration.negated() : duration;
    }
}
