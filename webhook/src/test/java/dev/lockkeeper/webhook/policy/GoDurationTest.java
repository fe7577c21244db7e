package dev.lockkeeper.webhook.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Go's own table for {@code time.ParseDuration}: {@code parseDurationTests} and {@code parseDurationErrorTests} in time_test.go. */
class GoDurationTest {
    private static final long SECOND = 1_000_000_000L,
            MILLI = 1_000_000L,
            MICRO = 1_000L,
            MINUTE = 60 * SECOND,
            HOUR = 60 * MINUTE;

    static Stream<Arguments> parseDurationTests() {
        return Stream.of(
                Arguments.of("0", 0L),
                Arguments.of("5s", 5 * SECOND),
                Arguments.of("30s", 30 * SECOND),
                Arguments.of("1478s", 1478 * SECOND),
                // sign
                Arguments.of("-5s", -5 * SECOND),
                Arguments.of("+5s", 5 * SECOND),
                Arguments.of("-0", 0L),
                Arguments.of("+0", 0L),
                // decimal
                Arguments.of("5.0s", 5 * SECOND),
                Arguments.of("5.6s", 5 * SECOND + 600 * MILLI),
                Arguments.of("5.s", 5 * SECOND),
                Arguments.of(".5s", 500 * MILLI),
                Arguments.of("1.0s", SECOND),
                Arguments.of("1.00s", SECOND),
                Arguments.of("1.004s", SECOND + 4 * MILLI),
                Arguments.of("1.0040s", SECOND + 4 * MILLI),
                Arguments.of("100.00100s", 100 * SECOND + MILLI),
                // different units
                Arguments.of("10ns", 10L),
                Arguments.of("11us", 11 * MICRO),
                Arguments.of("12µs", 12 * MICRO),
                Arguments.of("12μs", 12 * MICRO),
                Arguments.of("13ms", 13 * MILLI),
                Arguments.of("14s", 14 * SECOND),
                Arguments.of("15m", 15 * MINUTE),
                Arguments.of("16h", 16 * HOUR),
                // composite durations
                Arguments.of("3h30m", 3 * HOUR + 30 * MINUTE),
                Arguments.of("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLI),
                Arguments.of("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLI)),
                Arguments.of("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLI + 5 * MICRO + 6),
                Arguments.of("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLI),
                // large value
                Arguments.of("52763797000ns", 52763797000L),
                // more than 9 digits after the decimal point (golang.org/issue/6617)
                Arguments.of("0.3333333333333333333h", 20 * MINUTE),
                // 1<<53+1 cannot be stored precisely in a float64
                Arguments.of("9007199254740993ns", (1L << 53) + 1),
                // the largest duration int64 nanoseconds hold
                Arguments.of("9223372036854775807ns", Long.MAX_VALUE),
                Arguments.of("9223372036854775.807us", Long.MAX_VALUE),
                Arguments.of("9223372036s854ms775us807ns", Long.MAX_VALUE),
                Arguments.of("-9223372036854775808ns", Long.MIN_VALUE),
                Arguments.of("-9223372036854775.808us", Long.MIN_VALUE),
                Arguments.of("-9223372036s854ms775us808ns", Long.MIN_VALUE),
                // the largest negative round-trip value (golang.org/issue/48629)
                Arguments.of("-2562047h47m16.854775808s", Long.MIN_VALUE),
                // a huge string (issue 15011)
                Arguments.of("0.100000000000000000000h", 6 * MINUTE),
                // the first overflow check in leadingFraction
                Arguments.of("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("parseDurationTests")
    void parsesAsGoDoes(String text, long nanos) {
        assertEquals(Duration.ofNanos(nanos), GoDuration.parse(text));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(
            strings = {
                // parseDurationErrorTests: invalid
                "",
                "3",
                "-",
                "s",
                ".",
                "-.",
                ".s",
                "+.s",
                "1d",
                "\u0085\u0085",
                "\u00ffff",
                "hello \u00ffff world",
                // overflow: wrapping at 64 bits would turn these into other durations
                "9223372036854775808ns",
                "9223372036854775.808us",
                "9223372036854ms775us808ns",
                "-9223372036854775809ns",
                "106751991167h",
                "2562048h",
                "99999999999999999999s",
                // Go does not trim: Kubernetes would refuse these too
                " 5s",
                "5s ",
                "5 s"
            })
    void refusesWhatGoRefuses(String text) {
        assertNull(GoDuration.parse(text));
    }
}
