package dev.lockkeeper.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The image records its AOT cache with the command the build uses (sidecar/pom.xml's aot-cache execution): a cache
 * is only used by a JVM started with the flags it was recorded with, so the two must not drift apart.
 */
class SidecarContainerfileTest {
    static final Path CONTAINERFILE = Jars.ROOT.resolve("sidecar/Containerfile");
    /** Where the image keeps what the pom finds in ${project.basedir} and ${project.build.directory}. */
    static final String IMAGE_DIR = "/opt/lockkeeper";

    @Test
    void theImageRecordsItsAotCacheAsTheBuildDoes() throws Exception {
        List<String> build = pomTrainingCommand().stream()
                .map(a -> a.replace("${java.home}/bin/java", "java")
                        .replace("${project.basedir}", IMAGE_DIR)
                        .replace("${project.build.directory}", IMAGE_DIR))
                .toList();
        assertTrue(build.stream().anyMatch(a -> a.startsWith("-XX:AOTCacheOutput=")), build.toString());
        assertEquals(build, containerfileTrainingCommand());
    }

    /** Every file the training command names is copied into the image first, from where the build wrote it. */
    @Test
    void theTrainingRunFindsTheFilesTheBuildMade() throws Exception {
        List<String> copies = Files.readAllLines(CONTAINERFILE).stream()
                .filter(l -> l.startsWith("COPY --from=build "))
                .toList();
        for (String file : List.of("sidecar/jvm.options", "sidecar/target/lockkeeper-sidecar.jar"))
            assertTrue(
                    copies.stream()
                            .anyMatch(c -> c.contains(" /src/" + file + " ") && c.endsWith(" " + IMAGE_DIR + "/")),
                    file + " is copied to " + IMAGE_DIR + ": " + copies);
        String entrypoint = Files.readAllLines(CONTAINERFILE).stream()
                .filter(l -> l.startsWith("ENTRYPOINT "))
                .findFirst()
                .orElseThrow();
        assertTrue(entrypoint.contains("\"" + IMAGE_DIR + "/lockkeeper-controller.jar\""), entrypoint);
        assertTrue(
                copies.stream()
                        .anyMatch(c -> c.contains("/sidecar/controller/target/lockkeeper-controller.jar")
                                && c.endsWith(" " + IMAGE_DIR + "/")),
                copies.toString());
    }

    /** The exec-maven-plugin execution {@code aot-cache}: its executable and arguments. */
    static List<String> pomTrainingCommand() throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        var pom = factory.newDocumentBuilder()
                .parse(Jars.ROOT.resolve("sidecar/pom.xml").toFile());
        NodeList executions = pom.getElementsByTagName("execution");
        for (int i = 0; i < executions.getLength(); i++) {
            Element execution = (Element) executions.item(i);
            if (!text(execution, "id").equals("aot-cache")) continue;
            List<String> command = new ArrayList<>(List.of(text(execution, "executable")));
            NodeList arguments = execution.getElementsByTagName("argument");
            for (int a = 0; a < arguments.getLength(); a++)
                command.add(arguments.item(a).getTextContent().trim());
            return command;
        }
        throw new AssertionError("sidecar/pom.xml has no aot-cache execution");
    }

    private static String text(Element parent, String tag) {
        NodeList found = parent.getElementsByTagName(tag);
        return found.getLength() == 0 ? "" : found.item(0).getTextContent().trim();
    }

    /** The Containerfile's one RUN (exec form) that writes an AOT cache. */
    static List<String> containerfileTrainingCommand() throws Exception {
        List<String> runs = Files.readAllLines(CONTAINERFILE).stream()
                .filter(l -> l.startsWith("RUN [") && l.contains("-XX:AOTCacheOutput="))
                .toList();
        assertEquals(1, runs.size(), "one training run, in exec form: " + runs);
        List<String> command = new ArrayList<>();
        for (JsonNode argument : Json.MAPPER.readTree(runs.getFirst().substring("RUN ".length())))
            command.add(argument.asText());
        return command;
    }
}
