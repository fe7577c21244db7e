package dev.lockkeeper.controller.cli;

import dev.lockkeeper.controller.agent.AgentCertificates;
import dev.lockkeeper.controller.agent.AgentCertificatesClient;
import dev.lockkeeper.controller.agent.CopyTaskIntake;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code lockkeeper-controller agent}: the node agent of {@code lockkeeper-sidecar agent}, with its tasks taken from the
 * CopyTask resources that name its node instead of a task directory, and with {@code --request-certificate} its node
 * certificate obtained through the CSR API ({@link AgentCertificatesClient}). Every other option is the sidecar
 * agent's; {@code --node} and {@code --tls-dir} are read from those, so they are given once.
 */
@Command(
        name = "agent",
        description = "Run the node agent (the DaemonSet), taking CopyTasks for --node from the API; "
                + "all other options are those of lockkeeper-sidecar agent (try: agent --help).")
public final class AgentCommand implements Callable<Integer> {
    static final int FAILED = 1, USAGE_ERROR = 2;

    @Option(
            names = "--namespace",
            description = "installation namespace, where the CopyTasks are (default: $POD_NAMESPACE, else lockkeeper)")
    String namespace = ControllerCommand.envOr("POD_NAMESPACE", "lockkeeper");

    @Option(
            names = "--request-certificate",
            description = "before starting, make --tls-dir hold this node's certificate, requested through a "
                    + "CertificateSigningRequest (signer lockkeeper.dev/agent), and renew it before it expires")
    boolean requestCertificate;

    @Option(
            names = "--certificate-timeout",
            description = "seconds to wait for the controller to sign a request (default: ${DEFAULT-VALUE})")
    long certificateTimeoutSeconds = 300;

    @Unmatched
    List<String> agentArguments = new ArrayList<>();

    @Override
    public Integer call() {
        try (KubernetesClient client = new KubernetesClientBuilder().build()) {
            AgentCertificatesClient certificates = null;
            if (requestCertificate) {
                Optional<String> node = passedOption(agentArguments, "--node");
                Optional<String> tlsDir = passedOption(agentArguments, "--tls-dir");
                if (node.isEmpty() || tlsDir.isEmpty()) {
                    System.err.println("lockkeeper-controller agent: --request-certificate needs --node and --tls-dir");
                    return USAGE_ERROR;
                }
                certificates = new AgentCertificatesClient(
                        client,
                        namespace,
                        node.get(),
                        Path.of(tlsDir.get()).toAbsolutePath().normalize(),
                        Clock.systemUTC(),
                        Duration.ofSeconds(certificateTimeoutSeconds));
                try {
                    Instant renewAt = certificates.ensure();
                    certificates.renewInBackground(renewAt);
                } catch (IOException
                        | AgentCertificates.Refused
                        | KubernetesClientException
                        | IllegalArgumentException e) {
                    System.err.println("lockkeeper-controller agent: no certificate for node " + node.get() + ": "
                            + e.getMessage());
                    certificates.close();
                    return FAILED;
                }
            }
            try {
                return dev.lockkeeper.sidecar.agent.AgentCommand.run(
                        agentArguments.toArray(String[]::new),
                        System.out,
                        System.err,
                        settings -> new CopyTaskIntake(client, namespace, settings.node()));
            } finally {
                if (certificates != null) certificates.close();
            }
        }
    }

    /** The value of a sidecar agent option among the passed-through arguments, in either of its forms. */
    static Optional<String> passedOption(List<String> arguments, String name) {
        for (int i = 0; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            if (argument.startsWith(name + "=")) return Optional.of(argument.substring(name.length() + 1));
            if (argument.equals(name) && i + 1 < arguments.size()) return Optional.of(arguments.get(i + 1));
        }
        return Optional.empty();
    }
}
