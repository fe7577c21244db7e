package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.agent.TaskStatus.Phase;
import dev.lockkeeper.sidecar.copy.Sizes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code task status DIR [--watch]}: one line per task of a task directory, for a person: phase, progress, bytes,
 * rate, attempt and message. With {@code --watch} the table is redrawn every second until every task has ended.
 */
public final class TaskStatusCommand {
    private static final String USAGE = "Usage: lockkeeper-sidecar task status DIR [--watch]";
    private static final String CLEAR = "\033[H\033[2J";

    private TaskStatusCommand() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0
                || !args[0].equals("status")
                || args.length > 3
                || args.length == 3 && !args[2].equals("--watch")
                || args.length == 1) {
            err.println("lockkeeper-sidecar task: expected 'status DIR [--watch]'");
            err.println(USAGE);
            return AgentCommand.USAGE_ERROR;
        }
        Path directory = Path.of(args[1]);
        if (!Files.isDirectory(directory)) {
            err.println("lockkeeper-sidecar task status: " + directory + " is not a directory");
            return AgentCommand.FAILED;
        }
        boolean watch = args.length == 3;
        Map<String, Sample> previous = new HashMap<>();
        try {
            while (true) {
                List<Row> rows = read(directory);
                if (watch && System.console() != null) out.print(CLEAR);
                out.print(table(rows, previous));
                out.flush();
                if (!watch
                        || rows.stream()
                                .allMatch(row -> row.status
                                        .map(s -> s.phase().terminal())
                                        .orElse(false))) return 0;
                TimeUnit.SECONDS.sleep(1);
                if (System.console() == null) out.println();
            }
        } catch (IOException e) {
            err.println("lockkeeper-sidecar task status: " + e.getMessage());
            return AgentCommand.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return AgentCommand.FAILED;
        }
    }

    record Row(String name, Optional<TaskStatus> status) {}

    private record Sample(long bytes, long nanos) {}

    static List<Row> read(Path directory) throws IOException {
        List<Row> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(TaskFiles::isTaskFile).sorted().toList()) {
                String name = TaskFiles.nameOf(file);
                Optional<TaskStatus> status;
                try {
                    status = TaskFiles.readStatus(TaskFiles.statusFileOf(directory, name));
                } catch (IOException e) {
                    status = Optional.empty(); // being replaced right now: shown as not started
                }
                rows.add(new Row(name, status));
            }
        }
        return rows;
    }

    static String table(List<Row> rows, Map<String, Sample> previous) {
        StringBuilder out = new StringBuilder(String.format(
                Locale.ROOT,
                "%-24s %-10s %8s %23s %11s %7s  %s%n",
                "TASK",
                "PHASE",
                "PROGRESS",
                "DONE/TOTAL",
                "RATE",
                "ATTEMPT",
                "MESSAGE"));
        long now = System.nanoTime();
        for (Row row : rows) {
            if (row.status.isEmpty()) {
                out.append(String.format(Locale.ROOT, "%-24s %-10s%n", row.name, "-"));
                continue;
            }
            TaskStatus s = row.status.get();
            Sample last = previous.put(row.name, new Sample(s.bytesDone(), now));
            String rate = last == null || s.phase() != Phase.Running || now == last.nanos
                    ? ""
                    : Sizes.human(Math.max(0, (long) ((s.bytesDone() - last.bytes) * 1e9 / (now - last.nanos)))) + "/s";
            out.append(String.format(
                    Locale.ROOT,
                    "%-24s %-10s %8s %23s %11s %7d  %s%n",
                    row.name,
                    s.phase(),
                    s.progress(),
                    Sizes.human(s.bytesDone()) + "/" + Sizes.human(s.bytesTotal()),
                    rate,
                    s.attempt(),
                    Optional.ofNullable(s.message())
                            .orElse(Optional.ofNullable(s.digest())
                                    .map(d -> "digest " + d)
                                    .orElse(""))));
        }
        return out.toString();
    }
}
