package dev.lockkeeper.webhook.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lockkeeper-webhook review} on the shipped examples, as {@code ./lk review} runs it. */
class ReviewExamplesTest {
    static final Path EXAMPLES = Path.of("examples");

    record Run(int exit, String out, String err) {}

    static Run review(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        String[] full = new String[args.length + 1];
        full[0] = "review";
        System.arraycopy(args, 0, full, 1, args.length);
        return new Run(commandLine.execute(full), out.toString(), err.toString());
    }

    @Test
    void aDataVolumeKubeVirtCreatesFromATemplateOverAnExistingPvcIsAllowed(@TempDir Path dir) throws Exception {
        Files.copy(EXAMPLES.resolve("example-cluster.yaml"), dir.resolve("cluster.yaml"));
        Path review = EXAMPLES.resolve("reviews/datavolume-template-existing-pvc.yaml");
        Run run = review("--cluster", dir.toString(), review.toString());
        assertEquals(0, run.exit(), run.out() + run.err());
        JsonNode response = Json.MAPPER.readTree(run.out()).path("response");
        assertTrue(response.path("allowed").asBoolean(), response.toString());
        assertEquals(
                "2f6c8a0e-4b1d-4c3e-9f7a-8b9c0d1e2f03", response.path("uid").asText());
    }

    @Test
    void theBundledExampleClusterHasTheSameObjects() {
        Run run = review(EXAMPLES.resolve("reviews/datavolume-template-existing-pvc.yaml")
                .toString());
        assertEquals(0, run.exit(), run.out() + run.err());
    }
}
