package dev.lockkeeper.webhook.cli;

import dev.lockkeeper.webhook.policy.GoDuration;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Command-line durations in Go/Kubernetes syntax: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h30m}. */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        Duration duration = GoDuration.parse(value);
        if (duration == null || duration.isNegative()) {
            throw new TypeConversionException("'" + value + "' is not a duration like 500ms, 10s, 5m or 1h");
        }
        return duration;
    }
}
