package dev.lockkeeper.controller.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lockkeeper-controller controller}: the VolumeCopy populator; {@code lockkeeper-controller agent}: the node agent in the cluster. */
@Command(
        name = "lockkeeper-controller",
        mixinStandardHelpOptions = true,
        version = "lockkeeper-controller 0.1.0",
        description = "Fills PVCs whose dataSourceRef names a VolumeCopy, with the node agents moving the data.",
        subcommands = {ControllerCommand.class, AgentCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
    }
}
