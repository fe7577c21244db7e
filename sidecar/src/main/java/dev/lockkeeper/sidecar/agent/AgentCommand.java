package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.cli.Units;
import dev.lockkeeper.sidecar.wire.DataServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.help.HelpFormatter;
import org.apache.commons.cli.help.TextHelpAppendable;

/**
 * {@code agent --node NAME --tasks DIR [options]}: the resident data mover of one node. Runs until SIGTERM; the
 * tasks it was running continue from their checkpoints when it starts again. Exit codes: 2 bad command line,
 * 1 could not start.
 */
public final class AgentCommand {
    static final int FAILED = 1;
    static final int USAGE_ERROR = 2;
    private static final String SYNTAX = "lockkeeper-sidecar agent --node NAME --tasks DIR [options]";
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");
    private static final Pattern PEER = Pattern.compile("([a-z0-9][-a-z0-9.]*)=(\\S+:[0-9]{1,5})");

    private static final Option NODE =
            valued("node", "NAME", "this node's name, as tasks and node certificates name it (required)");
    private static final Option TASKS = valued(
            "tasks",
            "DIR",
            "directory of task files (NAME.yaml|yml|json), watched; "
                    + "status is written beside each as NAME.status.json (required)");
    private static final Option KUBELET_ROOT = valued(
            "kubelet-root",
            "DIR",
            "kubelet's root directory, where pods' " + "volumes are mounted (default /var/lib/kubelet)");
    private static final Option ALLOWED_ROOT = valued(
            "allowed-root",
            "DIR",
            "a directory under which tasks may name " + "plain paths (repeatable; default none: only kubelet volumes)");
    private static final Option STATE_DIR = valued(
            "state-dir",
            "DIR",
            "where attempts and checkpoints survive a " + "restart (default /var/lib/lockkeeper/agent)");
    private static final Option TLS_DIR = valued(
            "tls-dir",
            "DIR",
            "this node's certificate: tls.crt, tls.key and the "
                    + "agent CA's ca.crt (without it: copies within this node only)");
    private static final Option BIND =
            valued("bind-address", "ADDRESS", "address the data and admin ports listen on (default 0.0.0.0)");
    private static final Option DATA_PORT =
            valued("data-port", "PORT", "mTLS port other agents pull from (default 8444)");
    private static final Option ADMIN_PORT =
            valued("admin-port", "PORT", "/healthz, /readyz and /metrics (default 8445)");
    private static final Option MAX_TASKS =
            valued("max-tasks", "N", "tasks copied at once on this node; more wait Queued (default 2)");
    private static final Option MAX_RATE = valued(
            "max-rate",
            "SIZE",
            "bytes per second for the whole node, shared by its tasks, e.g. 200M (default: no limit)");
    private static final Option PEER_OPTION = valued(
            "peer",
            "NODE=HOST:PORT",
            "where another node's agent listens, when " + "its tasks do not say (repeatable; default NODE:data-port)");
    private static final Option RETRY_DEADLINE = valued(
            "retry-deadline",
            "DURATION",
            "how long transient failures of a " + "task are retried, e.g. 30m (default 1h)");
    private static final Option CHECKPOINT_BYTES = valued(
            "checkpoint-bytes",
            "SIZE",
            "a target is synced and its "
                    + "checkpoint recorded every SIZE bytes or 10 s, whichever comes first: what a restart copies again (default 1G)");
    private static final Option STALL = valued(
            "stall-timeout",
            "DURATION",
            "a connection between agents that moves "
                    + "nothing for this long is closed and the pull retried from its checkpoint (default 30s)");
    private static final Option HELP =
            Option.builder("h").longOpt("help").desc("show this help").get();
    private static final Options OPTIONS = new Options()
            .addOption(NODE)
            .addOption(TASKS)
            .addOption(KUBELET_ROOT)
            .addOption(ALLOWED_ROOT)
            .addOption(STATE_DIR)
            .addOption(TLS_DIR)
            .addOption(BIND)
            .addOption(DATA_PORT)
            .addOption(ADMIN_PORT)
            .addOption(MAX_TASKS)
            .addOption(MAX_RATE)
            .addOption(PEER_OPTION)
            .addOption(RETRY_DEADLINE)
            .addOption(CHECKPOINT_BYTES)
            .addOption(STALL)
            .addOption(HELP);

    private AgentCommand() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, null);
    }

    /**
     * The agent with its tasks from {@code clusterIntake} instead of a {@code --tasks} directory: how the controller
     * jar runs it in the cluster (CopyTask resources), keeping this jar free of a Kubernetes client.
     */
    public static int run(
            String[] args, PrintStream out, PrintStream err, Function<AgentSettings, TaskIntake> clusterIntake) {
        AgentSettings settings;
        try {
            CommandLine line =
                    DefaultParser.builder().setAllowPartialMatching(false).get().parse(OPTIONS, args);
            if (line.hasOption(HELP)) {
                printHelp(out);
                return 0;
            }
            settings = settings(line, clusterIntake != null);
        } catch (ParseException e) {
            err.println("lockkeeper-sidecar agent: " + e.getMessage());
            err.println("Usage: " + SYNTAX + " (try: lockkeeper-sidecar agent --help)");
            return USAGE_ERROR;
        }
        AgentLogging.configure();
        try {
            TaskIntake intake =
                    clusterIntake == null ? new TaskDirectory(settings.tasks()) : clusterIntake.apply(settings);
            RunningAgent running = RunningAgent.start(settings, intake, DataPlanes.forSettings(settings));
            err.println("lockkeeper-sidecar agent: node " + settings.node() + ", tasks from " + intake + ", data port "
                    + running.dataPort() + ", admin port " + running.adminPort());
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                running.close();
                                stopped.countDown();
                            },
                            "lk-agent-stop"));
            stopped.await();
            return 0;
        } catch (IOException | UncheckedIOException e) {
            err.println("lockkeeper-sidecar agent: cannot start: " + e.getMessage());
            return FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        }
    }

    private static AgentSettings settings(CommandLine line, boolean tasksFromCluster) throws ParseException {
        if (!line.getArgList().isEmpty())
            throw new ParseException("unexpected operands: " + String.join(" ", line.getArgList()));
        Set<String> seen = new HashSet<>();
        for (Option given : line.getOptions()) {
            boolean repeatable = given.getLongOpt().equals(ALLOWED_ROOT.getLongOpt())
                    || given.getLongOpt().equals(PEER_OPTION.getLongOpt());
            if (!repeatable && !seen.add(given.getLongOpt()))
                throw new ParseException("--" + given.getLongOpt() + " is given more than once");
        }
        String node = required(line, NODE);
        if (!node.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*") || node.length() > 253) {
            throw new ParseException("--node must be a DNS-1123 name, got '" + node + "'");
        }
        String bind = line.getOptionValue(BIND, "0.0.0.0");
        Map<String, String> peers = new LinkedHashMap<>();
        for (String peer :
                Optional.ofNullable(line.getOptionValues(PEER_OPTION)).orElse(new String[0])) {
            Matcher m = PEER.matcher(peer);
            if (!m.matches()) throw new ParseException("--peer must be NODE=HOST:PORT, got '" + peer + "'");
            peers.put(m.group(1), m.group(2));
        }
        long maxRate = 0;
        if (line.hasOption(MAX_RATE)) {
            try {
                maxRate = Units.parseSize(line.getOptionValue(MAX_RATE));
            } catch (IllegalArgumentException e) {
                throw new ParseException("--max-rate: " + e.getMessage());
            }
            if (maxRate == 0)
                throw new ParseException("--max-rate must be at least 1 byte per second (omit it for no limit)");
        }
        int maxTasks = integer(line, MAX_TASKS, AgentSettings.DEFAULT_MAX_TASKS, 1, 64);
        long checkpointBytes = AgentSettings.DEFAULT_CHECKPOINT_BYTES;
        if (line.hasOption(CHECKPOINT_BYTES)) {
            try {
                checkpointBytes = Units.parseSize(line.getOptionValue(CHECKPOINT_BYTES));
            } catch (IllegalArgumentException e) {
                throw new ParseException("--checkpoint-bytes: " + e.getMessage());
            }
            if (checkpointBytes < 1 << 20)
                throw new ParseException(
                        "--checkpoint-bytes must be at least 1M (every sync costs a flush of the disk)");
        }
        if (tasksFromCluster && line.hasOption(TASKS)) {
            throw new ParseException("--tasks is not used here: this agent takes its tasks from CopyTask resources");
        }
        return new AgentSettings(
                node,
                tasksFromCluster ? null : path(required(line, TASKS)),
                path(line.getOptionValue(KUBELET_ROOT, "/var/lib/kubelet")),
                Optional.ofNullable(line.getOptionValues(ALLOWED_ROOT)).map(List::of).orElse(List.of()).stream()
                        .map(AgentCommand::path)
                        .toList(),
                path(line.getOptionValue(STATE_DIR, "/var/lib/lockkeeper/agent")),
                Optional.ofNullable(line.getOptionValue(TLS_DIR)).map(AgentCommand::path),
                new InetSocketAddress(bind, integer(line, DATA_PORT, AgentSettings.DEFAULT_DATA_PORT, 0, 65535)),
                new InetSocketAddress(bind, integer(line, ADMIN_PORT, AgentSettings.DEFAULT_ADMIN_PORT, 0, 65535)),
                maxTasks,
                maxRate,
                Map.copyOf(peers),
                line.hasOption(RETRY_DEADLINE)
                        ? duration(line.getOptionValue(RETRY_DEADLINE))
                        : AgentSettings.DEFAULT_RETRY_DEADLINE,
                AgentSettings.FIRST_RETRY_DELAY,
                AgentSettings.MAX_RETRY_DELAY,
                checkpointBytes,
                AgentSettings.CHECKPOINT_INTERVAL,
                stall(line));
    }

    /** Longer than the keepalive a source sends while it computes its digest, or a busy source would look stalled. */
    private static Duration stall(CommandLine line) throws ParseException {
        if (!line.hasOption(STALL)) return AgentSettings.DEFAULT_STALL;
        Duration stall = duration(line.getOptionValue(STALL));
        Duration keepalive = DataServer.Options.DEFAULT.keepalive();
        if (stall.compareTo(keepalive) <= 0) {
            throw new ParseException("--stall-timeout must be longer than the " + keepalive.toSeconds()
                    + " s between keepalives, got '" + line.getOptionValue(STALL) + "'");
        }
        return stall;
    }

    private static String required(CommandLine line, Option option) throws ParseException {
        String value = line.getOptionValue(option);
        if (value == null || value.isBlank()) throw new ParseException("--" + option.getLongOpt() + " is required");
        return value;
    }

    private static int integer(CommandLine line, Option option, int fallback, int min, int max) throws ParseException {
        if (!line.hasOption(option)) return fallback;
        try {
            int value = Integer.parseInt(line.getOptionValue(option));
            if (value < min || value > max) throw new NumberFormatException();
            return value;
        } catch (NumberFormatException e) {
            throw new ParseException("--" + option.getLongOpt() + " must be a whole number from " + min + " to " + max
                    + ", got '" + line.getOptionValue(option) + "'");
        }
    }

    static Duration duration(String text) throws ParseException {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) throw new ParseException("not a duration: '" + text + "' (examples: 90s, 30m, 2h)");
        long amount = Long.parseLong(m.group(1));
        Duration value = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
        if (value.isZero()) throw new ParseException("a duration must be longer than 0: '" + text + "'");
        return value;
    }

    private static Path path(String text) {
        return Path.of(text).toAbsolutePath().normalize();
    }

    private static Option valued(String name, String argument, String description) {
        return Option.builder()
                .longOpt(name)
                .hasArg()
                .argName(argument)
                .desc(description)
                .get();
    }

    private static void printHelp(PrintStream out) {
        out.println("Usage: " + SYNTAX);
        out.println("The node agent: copies volumes on this node and streams them between nodes over mTLS.");
        try {
            TextHelpAppendable text = new TextHelpAppendable(out);
            text.setMaxWidth(100);
            HelpFormatter.builder()
                    .setShowSince(false)
                    .setHelpAppendable(text)
                    .get()
                    .printOptions(OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println("Exit codes: 0 stopped by SIGTERM; 1 could not start; 2 bad command line.");
    }
}
