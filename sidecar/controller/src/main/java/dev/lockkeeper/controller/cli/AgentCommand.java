package dev.lockkeeper.controller.cli;

import dev.lockkeeper.controller.agent.CopyTaskIntake;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code lockkeeper-controller agent}: the node agent of {@code lockkeeper-sidecar agent}, with its tasks taken from the
 * CopyTask resources that name its node instead of a task directory. Every other option is the sidecar agent's.
 */
@Command(
        name = "agent",
        description = "Run the node agent (the DaemonSet), taking CopyTasks for --node from the API; "
                + "all other options are those of lockkeeper-sidecar agent (try: agent --help).")
public final class AgentCommand implements Callable<Integer> {

    @Option(
            names = "--namespace",
            description = "installation namespace, where the CopyTasks are (default: $POD_NAMESPACE, else lockkeeper)")
    String namespace = ControllerCommand.envOr("POD_NAMESPACE", "lockkeeper");

    @Unmatched
    List<String> agentArguments = new ArrayList<>();

    @Override
    public Integer call() {
        try (KubernetesClient client = new KubernetesClientBuilder().build()) {
            return dev.lockkeeper.sidecar.agent.AgentCommand.run(
                    agentArguments.toArray(String[]::new),
                    System.out,
                    System.err,
                    settings -> new CopyTaskIntake(client, namespace, settings.node()));
        }
    }
}
