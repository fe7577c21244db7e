package dev.lockkeeper.webhook.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lockkeeper-webhook serve|review}. */
@Command(name = "lockkeeper-webhook", mixinStandardHelpOptions = true, version = "lockkeeper-webhook 0.1.0",
        description = "Admission webhooks that guard KubeVirt storage: clone RBAC, export and restore rules.",
        subcommands = {ServeCommand.class, ReviewCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
    }
}
