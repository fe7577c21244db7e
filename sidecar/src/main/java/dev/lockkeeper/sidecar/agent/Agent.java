package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.agent.AgentMetrics.Kind;
import dev.lockkeeper.sidecar.agent.AgentMetrics.Role;
import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import dev.lockkeeper.sidecar.agent.VolumeLocator.Located;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One node's agent: takes the tasks its intake holds, drives those whose target is on this node (at most
 * {@code --max-tasks} at once, the rest {@code Queued}), serves the sources of those whose source is here, and
 * writes each driven task's status back at most once a second (phase changes at once). A transient failure is
 * retried ({@link RetryDelays}: jittered backoff from 1 s doubling to 60 s, reset by progress; a refused connection
 * polled every 250 ms for up to 30 s) until the retry deadline, continuing from the last checkpoint; the
 * attempt count and checkpoint live in the state directory, so a restarted agent continues where it stopped.
 */
public final class Agent implements TaskIntake.Listener, SourceCatalog, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Agent.class.getName());
    private static final long POLL_MILLIS = 200;

    private final AgentSettings settings;
    private final TaskIntake intake;
    private final VolumeLocator locator;
    private final StateDirectory state;
    private final DataPlane dataPlane;
    private final RateLimiter nodeRate;
    private final AgentMetrics metrics;
    private final Semaphore slots;
    private final LocalCopy localCopy;
    private final Map<String, TaskRun> runs = new ConcurrentHashMap<>();
    private final Map<String, CopyTask> served = new ConcurrentHashMap<>();
    private final Set<String> rejected = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("lk-status").factory());
    private volatile boolean intakeStarted;
    private DataPlane.Serving serving;

    Agent(AgentSettings settings, TaskIntake intake, VolumeLocator locator, StateDirectory state, DataPlane dataPlane) {
        this.settings = settings;
        this.intake = intake;
        this.locator = locator;
        this.state = state;
        this.dataPlane = dataPlane;
        this.nodeRate = settings.maxRate() > 0 ? new TokenBucket(settings.maxRate()) : RateLimiter.UNLIMITED;
        this.slots = new Semaphore(settings.maxTasks(), true);
        this.metrics = new AgentMetrics(this::tasksIn);
        this.localCopy = new LocalCopy(settings.checkpointBytes(), settings.checkpointInterval());
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    /** Serves sources, then takes the intake's tasks; returns once the tasks present at start are known. */
    public void start() throws IOException {
        serving = dataPlane.serve(this, nodeRate, metrics);
        ticker.scheduleWithFixedDelay(this::publishProgress, 1, 1, TimeUnit.SECONDS);
        intake.start(this);
        intakeStarted = true;
    }

    /** The data port other agents pull from, or -1 without a data plane. */
    public int dataPort() {
        return serving == null ? -1 : serving.port();
    }

    /** Why the agent cannot take work yet; empty once it can. */
    public Optional<String> notReady() {
        return intakeStarted ? Optional.empty() : Optional.of("the task intake has not started");
    }

    private int tasksIn(Phase phase) {
        return (int) runs.values().stream()
                .filter(run -> run.status.phase() == phase)
                .count();
    }

    // ---- intake events (one thread at a time) ----

    @Override
    public void changed(CopyTask task) {
        boolean drives = task.target().node().equals(settings.node());
        if (task.source().node().equals(settings.node()) && !task.local()) served.put(task.name(), task);
        else served.remove(task.name());
        if (!drives) return;
        TaskRun existing = runs.get(task.name());
        if (existing != null) {
            if (!existing.task.sameWorkAs(task)) {
                existing.note("the task's spec changed after this agent took it; only spec.cancel may change");
            } else if (task.cancel()) {
                existing.cancel();
            }
            return;
        }
        Optional<TaskStatus> last = lastStatus(task.name());
        if (rejected.remove(task.name())) last = Optional.empty(); // a corrected task file starts afresh
        TaskRun run = new TaskRun(task, last.orElse(null));
        runs.put(task.name(), run);
        if (!run.status.phase().terminal())
            Thread.ofVirtual().name("lk-task-" + task.name()).start(run);
    }

    @Override
    public void rejected(String name, String reason) {
        TaskRun running = runs.get(name);
        if (running != null && !running.status.phase().terminal()) {
            running.note("the task file changed and is no longer valid (" + reason + "); the running copy goes on");
            return;
        }
        runs.remove(name);
        served.remove(name);
        if (rejected.add(name)
                || lastStatus(name).map(s -> !reason.equals(s.message())).orElse(true)) {
            publish(name, TaskStatus.queued(settings.node(), 0).withPhase(Phase.Failed, reason));
        }
    }

    @Override
    public void removed(String name) {
        served.remove(name);
        rejected.remove(name);
        TaskRun run = runs.remove(name);
        if (run != null) run.forget();
        state.forget(name);
    }

    // ---- the source side ----

    @Override
    public ServedSource open(String taskId, String callerNode) throws TransferException {
        CopyTask task = served.get(taskId);
        if (task == null && !intakeStarted) {
            // the data port opens before the task intake's first scan: a target that reconnects at once after a
            // restart must not read "no such task" as final
            throw new TransferException("node " + settings.node() + " is starting: its tasks are not loaded yet", true);
        }
        if (task == null) {
            throw new TransferException(
                    "node " + settings.node() + " is not the source of any task named " + taskId, false);
        }
        if (!task.target().node().equals(callerNode)) {
            throw new TransferException(
                    "task " + taskId + " copies to node " + task.target().node() + "; node " + callerNode
                            + " may not read its source",
                    false);
        }
        if (task.cancel()) throw new TransferException("task " + taskId + " is canceled", false);
        try (Located source = locator.locate(task.source().volume(), VolumeLocator.Role.SOURCE)) {
            return new ServedSource(taskId, source.path(), task.content());
        } catch (TaskRejected e) {
            throw new TransferException(e.getMessage(), false);
        }
    }

    // ---- status ----

    private Optional<TaskStatus> lastStatus(String name) {
        try {
            return intake.lastStatus(name);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot read the last status of task " + name + "; starting it afresh", e);
            return Optional.empty();
        }
    }

    private void publish(String name, TaskStatus status) {
        try {
            intake.publish(name, status);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot write the status of task " + name, e);
        }
    }

    private void publishProgress() {
        for (TaskRun run : runs.values()) run.publishIfChanged();
    }

    @Override
    public void close() {
        intake.close();
        ticker.shutdownNow();
        for (TaskRun run : runs.values()) run.stop();
        if (serving != null) serving.close();
    }

    /** One driven task, from Queued to a terminal phase. */
    private final class TaskRun implements Runnable {
        private final CopyTask task;
        private volatile TaskStatus status;
        private TaskStatus published;
        private volatile boolean canceled;
        private volatile boolean stopping;
        private volatile boolean forgotten;
        private final long created = System.nanoTime();

        TaskRun(CopyTask task, TaskStatus last) {
            this.task = task;
            this.status = last != null ? last : TaskStatus.queued(settings.node(), state.attempts(task.name()));
            if (last != null) published = last;
        }

        void cancel() {
            canceled = true;
        }

        /** The task is gone from the intake: stop it and write nothing more about it. */
        void forget() {
            forgotten = true;
            canceled = true;
        }

        /** The agent is shutting down: leave the task for the next start, as it is. */
        void stop() {
            stopping = true;
        }

        void note(String message) {
            status = status.withMessage(message);
            publishNow();
        }

        synchronized void publishIfChanged() {
            if (status != published) publishNow();
        }

        private synchronized void publishNow() {
            if (forgotten) return;
            TaskStatus current = status;
            publish(task.name(), current);
            published = current;
        }

        /**
         * Progress comes from a copy's reading thread and checkpoints from its writing or syncing thread: one update
         * must not overwrite the other.
         */
        private synchronized void change(UnaryOperator<TaskStatus> update) {
            status = update.apply(status);
        }

        private void become(TaskStatus next) {
            status = next;
            publishNow();
        }

        @Override
        public void run() {
            become(status.withPhase(Phase.Queued, null));
            if (canceled || task.cancel()) {
                finish(Phase.Canceled, "canceled before it started");
                return;
            }
            if (!takeSlot()) return;
            try {
                attempts();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "task " + task.name() + " failed unexpectedly", e);
                finish(Phase.Failed, "internal error: " + e);
            } finally {
                slots.release();
            }
        }

        private boolean takeSlot() {
            try {
                while (!slots.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                    if (stopping) return false;
                    if (canceled) {
                        finish(Phase.Canceled, "canceled while queued");
                        return false;
                    }
                }
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private void attempts() {
            long deadline = System.nanoTime() + settings.retryDeadline().toNanos();
            RetryDelays delays = new RetryDelays(
                    settings.firstRetryDelay(),
                    settings.maxRetryDelay(),
                    RetryDelays.REFUSED_POLL,
                    RetryDelays.REFUSED_WINDOW,
                    ThreadLocalRandom.current()::nextDouble);
            int attempt = state.attempts(task.name());
            while (true) {
                attempt++;
                state.recordAttempt(task.name(), attempt);
                CheckpointStore checkpoints = new Reporting(state.checkpoints(task.name()));
                Optional<Checkpoint> resumeFrom = checkpoints.load();
                resumeFrom.ifPresent(c -> metrics.resumed());
                TaskStatus starting = status.running(
                        attempt, resumeFrom.map(c -> c.offset() + c.entries()).orElse(0L));
                become(resumeFrom
                        .map(c -> starting.withCheckpoint(c.offset(), c.entries()))
                        .orElse(starting));
                try {
                    TransferOutcome outcome = execute(checkpoints);
                    Role role = task.local() ? Role.LOCAL : Role.TARGET;
                    if (task.local()) {
                        metrics.moved(role, Kind.DATA, outcome.dataBytes());
                        metrics.moved(role, Kind.ZERO, outcome.holeBytes());
                    }
                    status = status.succeeded(
                            outcome.bytesTotal(),
                            outcome.dataBytes(),
                            outcome.holeBytes(),
                            outcome.digest().orElse(null));
                    finish(Phase.Succeeded, null);
                    return;
                } catch (TransferException e) {
                    if (stopping) return;
                    if (canceled) {
                        finish(Phase.Canceled, "canceled");
                        return;
                    }
                    Optional<Checkpoint> reached = checkpoints.load();
                    boolean progressed = reached.isPresent() && !reached.equals(resumeFrom);
                    Duration delay = delays.next(e.refused(), progressed);
                    long retryAt = System.nanoTime() + delay.toNanos();
                    if (!e.retryable() || retryAt > deadline) {
                        finish(
                                Phase.Failed,
                                e.getMessage() + (e.retryable() ? " (gave up after " + attempt + " attempts)" : ""));
                        return;
                    }
                    become(status.withMessage("attempt " + attempt + " failed: " + e.getMessage() + "; retrying in "
                            + String.format(Locale.ROOT, "%.1f", delay.toMillis() / 1000.0) + "s"));
                    if (!pause(delay)) return;
                }
            }
        }

        private TransferOutcome execute(CheckpointStore checkpoints) throws TransferException {
            RateLimiter rate = TokenBucket.both(
                    nodeRate,
                    task.maxBytesPerSecond() > 0 ? new TokenBucket(task.maxBytesPerSecond()) : RateLimiter.UNLIMITED);
            TransferProgress progress = new Progress();
            try (Located target = locator.locate(task.target().volume(), VolumeLocator.Role.TARGET)) {
                if (task.local()) {
                    try (Located source = locator.locate(task.source().volume(), VolumeLocator.Role.SOURCE)) {
                        return localCopy.copy(
                                task,
                                source.path(),
                                target.path(),
                                progress,
                                () -> canceled,
                                () -> stopping,
                                rate,
                                checkpoints);
                    }
                }
                PullRequest request = new PullRequest(
                        task.name(),
                        status.attempt(),
                        task.source().node(),
                        socketAddress(settings.addressOf(task.source())),
                        target.path(),
                        task.content(),
                        task.preallocate(),
                        task.targetIsZero(),
                        task.filesystemOverhead(),
                        task.verify(),
                        rate);
                return dataPlane.puller(metrics).pull(request, checkpoints, progress, () -> canceled || stopping);
            } catch (TaskRejected e) {
                throw new TransferException(e.getMessage(), false);
            }
        }

        /** Waits out a retry delay; false when the task was canceled or the agent stops meanwhile. */
        private boolean pause(Duration delay) {
            long until = System.nanoTime() + delay.toNanos();
            try {
                while (System.nanoTime() < until) {
                    if (stopping) return false;
                    if (canceled) {
                        finish(Phase.Canceled, "canceled");
                        return false;
                    }
                    TimeUnit.MILLISECONDS.sleep(
                            Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()) + 1));
                }
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private void finish(Phase phase, String message) {
            if (forgotten) return;
            become(phase == Phase.Succeeded ? status : status.withPhase(phase, message));
            metrics.finished(phase, Duration.ofNanos(System.nanoTime() - created));
            state.forget(task.name());
            LOG.info(() -> "task " + task.name() + ": " + phase + (message == null ? "" : ": " + message));
        }

        private final class Progress implements TransferProgress {
            @Override
            public void update(long done, long total, long dataBytes, long holeBytes) {
                change(current -> current.withProgress(done, total, dataBytes, holeBytes));
            }

            @Override
            public void verifying() {
                become(status.withPhase(Phase.Verifying, null));
            }
        }

        /** Records checkpoints in the state directory and shows them in the status. */
        private final class Reporting implements CheckpointStore {
            private final CheckpointStore stored;

            Reporting(CheckpointStore stored) {
                this.stored = stored;
            }

            @Override
            public Optional<Checkpoint> load() {
                return stored.load();
            }

            @Override
            public void save(Checkpoint checkpoint) {
                stored.save(checkpoint);
                change(current -> current.withCheckpoint(checkpoint.offset(), checkpoint.entries()));
            }

            @Override
            public void clear() {
                stored.clear();
            }
        }
    }

    static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
