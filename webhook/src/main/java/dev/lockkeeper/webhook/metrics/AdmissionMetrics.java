package dev.lockkeeper.webhook.metrics;

import dev.lockkeeper.webhook.admission.RuleObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prometheus metrics: {@code lockkeeper_admission_reviews_seconds} (per endpoint and decision) and
 * {@code lockkeeper_admission_rule_seconds} (per endpoint, rule and decision), each a latency
 * histogram whose {@code _count} is the request count; {@code lockkeeper_http_refused_total} (per reason),
 * {@code lockkeeper_http_aborted_total}, {@code lockkeeper_http_connection_failures_total} and
 * {@code lockkeeper_http_unhandled_failures_total} count what
 * happened at the HTTP edge before or around a review; {@code lockkeeper_serving_certificate_not_after_seconds} and
 * {@code lockkeeper_serving_certificate_refused_total} (per reason) follow the serving certificate.
 */
public final class AdmissionMetrics implements RuleObserver {
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
        Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3)
    };

    private record Labels(String endpoint, String rule, String outcome) {}

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Built once per label set: a builder and registry lookup per request is needless work on the hot path.
    private final Map<Labels, Timer> ruleTimers = new ConcurrentHashMap<>();
    private final Map<Labels, Timer> reviewTimers = new ConcurrentHashMap<>();
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();
    private final Counter aborted = Counter.builder("lockkeeper.http.aborted")
            .description("Admission requests whose client went away mid-body")
            .register(registry);
    private final Counter unhandled = Counter.builder("lockkeeper.http.unhandled.failures")
            .description("Unexpected failures in the HTTP layer")
            .register(registry);
    private final Counter connectionFailures = Counter.builder("lockkeeper.http.connection.failures")
            .description("Connections ended by a failure below HTTP (TLS, reset, protocol)")
            .register(registry);
    private final Map<String, Counter> certificateRefusals = new ConcurrentHashMap<>();
    private final AtomicLong certificateNotAfter = new AtomicLong();

    public AdmissionMetrics() {
        Gauge.builder("lockkeeper.serving.certificate.not.after", certificateNotAfter, AtomicLong::get)
                .baseUnit("seconds")
                .description("Expiry (Unix time) of the serving certificate in use")
                .register(registry);
    }

    @Override
    public void ruleEvaluated(String endpoint, String rule, String outcome, long nanos) {
        ruleTimers
                .computeIfAbsent(
                        new Labels(endpoint, rule, outcome),
                        labels -> timer(
                                        "lockkeeper.admission.rule",
                                        "Time spent in one admission rule",
                                        endpoint,
                                        outcome)
                                .tag("rule", rule)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void reviewDecided(String endpoint, String outcome, long nanos) {
        reviewTimers
                .computeIfAbsent(
                        new Labels(endpoint, "", outcome),
                        labels -> timer(
                                        "lockkeeper.admission.reviews",
                                        "Time to decide one AdmissionReview",
                                        endpoint,
                                        outcome)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    private static Timer.Builder timer(String name, String description, String endpoint, String outcome) {
        return Timer.builder(name)
                .description(description)
                .tag("endpoint", endpoint)
                .tag("decision", outcome)
                .serviceLevelObjectives(BUCKETS);
    }

    /**
     * A request turned away before any rule ran: {@code busy}, {@code too-large}, {@code slow-body} or
     * {@code client-certificate} (missing, or a subject not pinned).
     */
    public void requestRefused(String reason) {
        refused.computeIfAbsent(
                        reason,
                        r -> Counter.builder("lockkeeper.http.refused")
                                .description("Admission requests refused at intake")
                                .tag("reason", r)
                                .register(registry))
                .increment();
    }

    /** A client that went away before its body was read whole (routine: API server timeouts, restarts). */
    public void requestAborted() {
        aborted.increment();
    }

    /** A connection ended by a failure below the HTTP exchange (TLS alert, reset, protocol error). */
    public void connectionFailed() {
        connectionFailures.increment();
    }

    /** A failure the HTTP layer did not expect; each one is also logged with its stack trace. */
    public void unhandledFailure() {
        unhandled.increment();
    }

    /** The serving certificate now in use expires at {@code notAfter}. */
    public void servingCertificateInstalled(Instant notAfter) {
        certificateNotAfter.set(notAfter.getEpochSecond());
    }

    /**
     * A serving certificate on disk that was not installed: {@code expired}, {@code not-yet-valid},
     * {@code not-regular-file}, {@code too-large}, {@code unreadable} or {@code tls-rejected}; each distinct refusal once.
     */
    public void servingCertificateRefused(String reason) {
        certificateRefusals
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("lockkeeper.serving.certificate.refused")
                                .description("Serving certificate rotations refused, the certificate in use kept")
                                .tag("reason", r)
                                .register(registry))
                .increment();
    }

    public String scrape() {
        return registry.scrape();
    }
}
