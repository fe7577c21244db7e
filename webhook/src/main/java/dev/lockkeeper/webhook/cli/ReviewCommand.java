package dev.lockkeeper.webhook.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionReviews;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.admission.BadAdmissionReview;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ManifestException;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.PolicyException;
import dev.lockkeeper.webhook.policy.PolicySource;
import dev.lockkeeper.webhook.rules.Rulebook;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Runs AdmissionReviews through the mutating then the validating chain, as the API server would,
 * against an embedded cluster, and prints each final response. Exit 0: all allowed; 1: any denied;
 * 2: bad input.
 */
@Command(
        name = "review",
        mixinStandardHelpOptions = true,
        description = "Decide AdmissionReview files (JSON or YAML) offline against a cluster directory.")
final class ReviewCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--cluster",
            paramLabel = "DIR",
            description = "Manifests of the cluster (default: the bundled example cluster).")
    Path cluster;

    @Option(
            names = "--clone-source-role",
            defaultValue = Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
            description = "ClusterRole that denial messages tell admins to bind (default: ${DEFAULT-VALUE}).")
    String cloneSourceRole;

    @Option(
            names = "--policy",
            paramLabel = "FILE",
            description = "Policy file (rule modes, thresholds); default: every rule denies.")
    Path policyFile;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "AdmissionReview files.")
    List<Path> files;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterView view;
        try {
            view = ClusterSource.embedded(cluster);
        } catch (ManifestException e) {
            err.println("review: " + e.getMessage());
            return 2;
        }
        // Tokens minted offline are only shown, never used: an ephemeral key is enough.
        var signer = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC());
        PolicySource policy;
        try {
            policy = Rulebook.policy(policyFile);
        } catch (PolicyException e) {
            err.println("review: " + e.getMessage());
            return 2;
        }
        AdmissionService service = Rulebook.service(view, signer, cloneSourceRole, RuleObserver.NONE, policy);
        int exit = 0;
        for (Path file : files) {
            try {
                AdmissionRequest request = AdmissionReviews.parse(readSingle(file));
                JsonNode response = service.reviewEndToEnd(request);
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(response));
                if (!response.path("response").path("allowed").asBoolean()) exit = Math.max(exit, 1);
            } catch (BadAdmissionReview | ManifestException | IOException e) {
                err.println("review: " + file + ": " + e.getMessage());
                exit = 2;
            }
        }
        out.flush();
        return exit;
    }

    private static JsonNode readSingle(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no such file");
        try (InputStream in = Files.newInputStream(file)) {
            var documents = Manifests.documents(file.toString(), in);
            if (documents.size() != 1)
                throw new IOException("expected one AdmissionReview, found " + documents.size() + " documents");
            return documents.getFirst();
        }
    }
}
