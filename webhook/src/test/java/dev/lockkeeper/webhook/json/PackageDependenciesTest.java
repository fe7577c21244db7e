package dev.lockkeeper.webhook.json;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering by imports: the JSON helpers depend on no other package of the webhook, and neither the cluster view
 * nor the policy depends on the admission layer that uses them (when {@code Json} lived in {@code admission}, both
 * were cycles).
 */
class PackageDependenciesTest {
    static final Path SOURCES = Path.of("src/main/java/dev/lockkeeper/webhook");
    static final Pattern IMPORT =
            Pattern.compile("^import (?:static )?dev\\.lockkeeper\\.webhook\\.([a-z.]+?)\\.[A-Z]", Pattern.MULTILINE);

    /** Package (relative to dev.lockkeeper.webhook) to the packages its main sources import. */
    static Map<String, Set<String>> imports() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
                Set<String> used = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) if (!m.group(1).equals(pkg)) used.add(m.group(1));
            }
        }
        return graph;
    }

    @Test
    void jsonImportsNothingAndClusterAndPolicyDoNotImportAdmission() throws IOException {
        Map<String, Set<String>> graph = imports();
        assertEquals(Set.of(), graph.get("json"));
        for (String lower : Set.of("cluster", "cluster.live", "cluster.rbac", "policy")) {
            assertFalse(graph.get(lower).contains("admission"), lower + " imports " + graph.get(lower));
        }
        assertTrue(
                graph.get("admission").containsAll(Set.of("cluster", "policy", "json")),
                "the scan reads imports: " + graph.get("admission"));
    }
}
