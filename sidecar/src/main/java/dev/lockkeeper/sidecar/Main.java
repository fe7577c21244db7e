package dev.lockkeeper.sidecar;

import dev.lockkeeper.sidecar.agent.AgentCommand;
import dev.lockkeeper.sidecar.agent.TaskStatusCommand;
import dev.lockkeeper.sidecar.cli.CopyCommand;
import dev.lockkeeper.sidecar.cli.SelfTest;
import java.io.PrintStream;
import java.util.Arrays;

/** The node sidecar's command line: {@code lockkeeper-sidecar COMMAND [options]}. */
public final class Main {
    static final String VERSION = "lockkeeper-sidecar 0.1.0";
    private static final int USAGE_ERROR = 2;
    private static final int INTERNAL_ERROR = 70;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line against the current {@code System.out}/{@code System.err}; returns the exit code. */
    public static int run(String... args) {
        try {
            return dispatch(args, System.out, System.err);
        } catch (RuntimeException | Error e) {
            System.err.println("lockkeeper-sidecar: internal error: " + e);
            return INTERNAL_ERROR;
        }
    }

    private static int dispatch(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "" : args[0];
        switch (command) {
            case "copy" -> {
                return CopyCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
            }
            case "agent" -> {
                return AgentCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
            }
            case "task" -> {
                return TaskStatusCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
            }
            case "self-test" -> {
                return SelfTest.run(Arrays.copyOfRange(args, 1, args.length), out, err);
            }
            case "-h", "--help", "help" -> {
                out.println("""
                        Usage: lockkeeper-sidecar COMMAND [options]
                        Lockkeeper node sidecar: moves KubeVirt volume data.
                        Commands:
                          copy        copy a block device, image file or volume directory (copy --help for details)
                          agent       the resident node agent: runs copy tasks on this node and between nodes (agent --help)
                          task        task status DIR [--watch]: a progress line per task of an agent's task directory
                          self-test   copy and verify sample data in a directory: checks a node's filesystem
                        Options:
                          -h, --help      show this help
                          -V, --version   print the version""");
                return 0;
            }
            case "-V", "--version" -> {
                out.println(VERSION);
                return 0;
            }
            default -> {
                err.println("lockkeeper-sidecar: "
                        + (command.isEmpty() ? "missing command" : "unknown command '" + command + "'")
                        + " (try: lockkeeper-sidecar copy --help)");
                return USAGE_ERROR;
            }
        }
    }
}
