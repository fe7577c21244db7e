package dev.lockkeeper.controller.cli;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.controller.csr.AgentCsrApproval;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.shell.CopyController;
import dev.lockkeeper.controller.shell.CsrSigner;
import dev.lockkeeper.controller.shell.LeaderElected;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "controller",
        mixinStandardHelpOptions = true,
        description =
                "Run the copy controller (leader-elected through a Lease): VolumeCopy populator and agent certificate signer.")
public final class ControllerCommand implements Callable<Integer> {

    @Option(
            names = "--namespace",
            description =
                    "installation namespace: primes, target holders, CopyTasks, the Lease (default: $POD_NAMESPACE, else lockkeeper)")
    String namespace = envOr("POD_NAMESPACE", "lockkeeper");

    @Option(
            names = "--identity",
            description = "this replica's name in the Lease (default: $POD_NAME, else the host name)")
    String identity = envOr("POD_NAME", envOr("HOSTNAME", "lockkeeper-controller"));

    @Option(names = "--lease", description = "the Lease's name (default: ${DEFAULT-VALUE})")
    String lease = "lockkeeper-controller";

    @Option(
            names = "--token-public-key",
            required = true,
            description =
                    "PEM public key of the webhook's clone tokens (public.key of the Secret lockkeeper-clone-token)")
    Path tokenPublicKey;

    @Option(
            names = "--agent-ca-dir",
            description =
                    "directory with the agent CA's tls.crt and tls.key; without it no certificate request is signed")
    Path agentCaDir;

    @Option(names = "--agent-service-account", description = "the agents' service account (default: ${DEFAULT-VALUE})")
    String agentServiceAccount = "lockkeeper-agent";

    @Option(names = "--holder-image", description = "image of the holder pods (default: ${DEFAULT-VALUE})")
    String holderImage = Settings.DEFAULT.holderImage();

    @Option(
            names = "--agent-data-port",
            description =
                    "the port the agents' data plane listens on (their --data-port); a cross-node copy streams from"
                            + " the source node's agent pod IP at this port (default: ${DEFAULT-VALUE})")
    int agentDataPort = Settings.DEFAULT_AGENT_DATA_PORT;

    @Option(names = "--resync", description = "seconds between full passes over every copy (default: ${DEFAULT-VALUE})")
    long resyncSeconds = 300;

    @Override
    public Integer call() throws Exception {
        var tokens = tokenCheck(tokenPublicKey);
        var settings = new Settings(namespace, holderImage, Settings.DEFAULT.filesystemOverhead(), agentDataPort);
        CertificateAuthority agentCa = agentCaDir == null ? null : loadAuthority(agentCaDir);
        CountDownLatch lost = new CountDownLatch(1);
        try (KubernetesClient client = new KubernetesClientBuilder().build();
                var election = new LeaderElected(
                        client,
                        namespace,
                        lease,
                        identity,
                        LeaderElected.Timing.DEFAULT,
                        () -> {
                            var controller = new CopyController(
                                    client, settings, tokens, Clock.systemUTC(), Duration.ofSeconds(resyncSeconds));
                            controller.start();
                            CsrSigner signer = agentCa == null
                                    ? null
                                    : new CsrSigner(
                                                    client,
                                                    new AgentCsrApproval.AgentIdentity(namespace, agentServiceAccount),
                                                    agentCa,
                                                    Clock.systemUTC())
                                            .start();
                            return () -> {
                                controller.close();
                                if (signer != null) signer.close();
                            };
                        },
                        lost::countDown)) {
            lost.await();
            // a replica that lost the lease may hold stale views: exit and come back as a follower
            return 1;
        }
    }

    /** The clone-token check the controller runs, from the webhook's public key file (the fake-cluster tests use it too). */
    public static CloneTokenCheck tokenCheck(Path publicKeyFile) throws IOException {
        return new CloneTokenCheck(Pem.decodePublicKey(Files.readString(publicKeyFile)));
    }

    private static CertificateAuthority loadAuthority(Path dir) throws IOException {
        return new CertificateAuthority(
                Pem.decodeCertificates(Files.readString(dir.resolve("tls.crt"))).getFirst(),
                Pem.decodePrivateKey(Files.readString(dir.resolve("tls.key"))));
    }

    static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
