package dev.lockkeeper.sidecar.agent;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Locale;

/**
 * What the agent reports about a task; written back through the {@link TaskIntake} the task came from.
 *
 * @param bytesDone   logical bytes of the target settled, including what an earlier attempt settled
 * @param startTime   RFC 3339, when the first attempt started
 * @param resumedFrom where the current attempt started (checkpoint offset or tree entries), 0 for a fresh start
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record TaskStatus(
        Phase phase,
        String node,
        int attempt,
        long bytesTotal,
        long bytesDone,
        long dataBytes,
        long holeBytes,
        long resumedFrom,
        Long checkpointOffset,
        Long checkpointEntries,
        String digest,
        String message,
        String startTime,
        String completionTime) {

    public enum Phase {
        Queued,
        Running,
        Verifying,
        Succeeded,
        Failed,
        Canceled;

        public boolean terminal() {
            return this == Succeeded || this == Failed || this == Canceled;
        }
    }

    public static TaskStatus queued(String node, int attempt) {
        return new TaskStatus(Phase.Queued, node, attempt, 0, 0, 0, 0, 0, null, null, null, null, null, null);
    }

    /** Progress the way upstream CDI writes it into {@code cdi.kubevirt.io/storage.populator.progress}. */
    @JsonProperty("progress")
    public String progress() {
        if (phase == Phase.Succeeded) return "100.00%";
        if (bytesTotal <= 0) return "N/A";
        return String.format(Locale.ROOT, "%.2f%%", 100.0 * Math.min(bytesDone, bytesTotal) / bytesTotal);
    }

    public TaskStatus withPhase(Phase value, String why) {
        String done = value.terminal() ? Instant.now().toString() : completionTime;
        return new TaskStatus(
                value,
                node,
                attempt,
                bytesTotal,
                bytesDone,
                dataBytes,
                holeBytes,
                resumedFrom,
                checkpointOffset,
                checkpointEntries,
                digest,
                why,
                startTime,
                done);
    }

    public TaskStatus running(int attemptNumber, long resumedFromBytes) {
        return new TaskStatus(
                Phase.Running,
                node,
                attemptNumber,
                bytesTotal,
                bytesDone,
                dataBytes,
                holeBytes,
                resumedFromBytes,
                checkpointOffset,
                checkpointEntries,
                digest,
                null,
                startTime == null ? Instant.now().toString() : startTime,
                null);
    }

    public TaskStatus withProgress(long done, long total, long data, long holes) {
        return new TaskStatus(
                phase,
                node,
                attempt,
                total,
                done,
                data,
                holes,
                resumedFrom,
                checkpointOffset,
                checkpointEntries,
                digest,
                message,
                startTime,
                completionTime);
    }

    public TaskStatus withCheckpoint(long offset, long entries) {
        return new TaskStatus(
                phase,
                node,
                attempt,
                bytesTotal,
                bytesDone,
                dataBytes,
                holeBytes,
                resumedFrom,
                offset,
                entries,
                digest,
                message,
                startTime,
                completionTime);
    }

    public TaskStatus withMessage(String value) {
        return new TaskStatus(
                phase,
                node,
                attempt,
                bytesTotal,
                bytesDone,
                dataBytes,
                holeBytes,
                resumedFrom,
                checkpointOffset,
                checkpointEntries,
                digest,
                value,
                startTime,
                completionTime);
    }

    public TaskStatus succeeded(long total, long data, long holes, String digestValue) {
        return new TaskStatus(
                Phase.Succeeded,
                node,
                attempt,
                total,
                total,
                data,
                holes,
                resumedFrom,
                checkpointOffset,
                checkpointEntries,
                digestValue,
                null,
                startTime,
                Instant.now().toString());
    }
}
