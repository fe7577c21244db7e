package dev.lockkeeper.sidecar.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Task files as a person would write them, for the agent tests. */
final class Tasks {
    private Tasks() {}

    /** A task copying {@code source} on {@code sourceNode} to {@code target} on {@code targetNode}, plain paths. */
    static String hostPathTask(
            String name, String sourceNode, Path source, String targetNode, Path target, String extraSpec) {
        return """
                apiVersion: lockkeeper.dev/v1alpha1
                kind: CopyTask
                metadata:
                  name: %s
                spec:
                  source:
                    node: %s
                    path: %s
                  target:
                    node: %s
                    path: %s
                %s""".formatted(name, sourceNode, source, targetNode, target, extraSpec.indent(2));
    }

    static Path write(Path directory, String name, String yaml) throws IOException {
        Path file = directory.resolve(name + ".yaml");
        Path temporary = directory.resolve("." + name + ".yaml.tmp");
        Files.writeString(temporary, yaml);
        return Files.move(
                temporary,
                file,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
