package dev.lockkeeper.sidecar;

import dev.lockkeeper.sidecar.cli.CopyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The node sidecar's command line. */
@Command(name = "lockkeeper-sidecar", mixinStandardHelpOptions = true, version = "lockkeeper-sidecar 0.1.0",
        description = "Lockkeeper node sidecar: moves KubeVirt volume data.",
        subcommands = {CopyCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: copy --help)");
    }
}
