package dev.lockkeeper.webhook.cli;

import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lockkeeper-webhook serve|review}. */
@Command(
        name = "lockkeeper-webhook",
        mixinStandardHelpOptions = true,
        version = "lockkeeper-webhook 0.1.0",
        description = "Admission webhooks that guard KubeVirt storage: clone RBAC, export and restore rules.",
        subcommands = {ServeCommand.class, ReviewCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
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
