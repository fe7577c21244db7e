package dev.lockkeeper.controller.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options {@code --request-certificate} reads from the sidecar agent's own, in either form commons-cli takes. */
class AgentCommandTest {

    @Test
    void theNodeAndTlsDirAreReadFromThePassedThroughArguments() {
        List<String> arguments = List.of("--node=node-a", "--tls-dir", "/var/lib/lockkeeper/tls", "--max-tasks", "4");
        assertEquals(Optional.of("node-a"), AgentCommand.passedOption(arguments, "--node"));
        assertEquals(Optional.of("/var/lib/lockkeeper/tls"), AgentCommand.passedOption(arguments, "--tls-dir"));
        assertEquals(Optional.empty(), AgentCommand.passedOption(arguments, "--state-dir"));
        assertEquals(Optional.empty(), AgentCommand.passedOption(List.of("--node"), "--node"), "a flag without value");
        assertEquals(
                Optional.empty(),
                AgentCommand.passedOption(List.of("--nodes=x"), "--node"),
                "another option that starts alike");
    }

    @Test
    void requestingACertificateWithoutATlsDirIsAUsageError() {
        var command = new CommandLine(new AgentCommand());
        assertEquals(AgentCommand.USAGE_ERROR, command.execute("--request-certificate", "--node=node-a"));
    }
}
