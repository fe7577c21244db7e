package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The agent's Prometheus metrics: {@code lockkeeper_agent_bytes_total{role,kind}} (role: source, target or local;
 * kind: data or zero), {@code lockkeeper_agent_tasks{phase}}, {@code lockkeeper_agent_resumes_total},
 * {@code lockkeeper_agent_frame_crc_errors_total} and {@code lockkeeper_agent_task_seconds}; and the JVM's own
 * {@code jvm_memory_used_bytes{area,id}}, so the agent's heap and off-heap use can be watched against its limits.
 */
public final class AgentMetrics {
    public enum Role {
        SOURCE,
        TARGET,
        LOCAL
    }

    public enum Kind {
        DATA,
        ZERO
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Role, Map<Kind, Counter>> bytes = new EnumMap<>(Role.class);
    private final Counter resumes;
    private final Counter crcErrors;
    private final Map<Phase, Timer> taskSeconds = new EnumMap<>(Phase.class);

    public AgentMetrics(Function<Phase, Integer> tasksInPhase) {
        for (Role role : Role.values()) {
            Map<Kind, Counter> byKind = new EnumMap<>(Kind.class);
            for (Kind kind : Kind.values()) {
                byKind.put(
                        kind,
                        Counter.builder("lockkeeper.agent.bytes")
                                .description(
                                        "Bytes of volume data moved: data as bytes, zero as runs sent or kept as holes")
                                .tag("role", role.name().toLowerCase())
                                .tag("kind", kind.name().toLowerCase())
                                .register(registry));
            }
            bytes.put(role, byKind);
        }
        for (Phase phase : Phase.values()) {
            Gauge.builder("lockkeeper.agent.tasks", () -> tasksInPhase.apply(phase))
                    .description("Tasks this agent holds, by phase")
                    .tag("phase", phase.name())
                    .register(registry);
            if (phase.terminal()) {
                taskSeconds.put(
                        phase,
                        Timer.builder("lockkeeper.agent.task")
                                .description("How long tasks took, by outcome")
                                .tag("phase", phase.name())
                                .register(registry));
            }
        }
        resumes = Counter.builder("lockkeeper.agent.resumes")
                .description("Attempts that continued from a checkpoint")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        crcErrors = Counter.builder("lockkeeper.agent.frame.crc.errors")
                .description("Data frames whose CRC32C did not match (each is re-sent)")
                .register(registry);
    }

    public void moved(Role role, Kind kind, long count) {
        if (count > 0) bytes.get(role).get(kind).increment(count);
    }

    public void resumed() {
        resumes.increment();
    }

    public void crcError() {
        crcErrors.increment();
    }

    void finished(Phase phase, Duration took) {
        Timer timer = taskSeconds.get(phase);
        if (timer != null) timer.record(took);
    }

    public String scrape() {
        return registry.scrape();
    }
}
