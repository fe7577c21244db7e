package dev.lockkeeper.sidecar.agent;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** Reading task files (YAML or JSON, strict) and writing status files (JSON, atomically) for {@link TaskDirectory}. */
final class TaskFiles {
    /** Far above any real task (a few hundred bytes); a larger file is refused unread. */
    static final int MAX_TASK_BYTES = 64 * 1024;

    static final String STATUS_SUFFIX = ".status.json";

    private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(32)
            .maxStringLength(MAX_TASK_BYTES)
            .maxNumberLength(64)
            .build();
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final ObjectMapper YAML = YAMLMapper.builder(
                    YAMLFactory.builder().streamReadConstraints(LIMITS).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(LIMITS);
    }

    private TaskFiles() {}

    static boolean isTaskFile(Path file) {
        String name = file.getFileName().toString();
        return !name.startsWith(".")
                && !name.endsWith(STATUS_SUFFIX)
                && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
    }

    /** The task's name as the file names it: the file name without its extension. */
    static String nameOf(Path file) {
        String name = file.getFileName().toString();
        return name.substring(0, name.lastIndexOf('.'));
    }

    static Path statusFileOf(Path directory, String name) {
        return directory.resolve(name + STATUS_SUFFIX);
    }

    static CopyTask parse(Path file, byte[] content) throws TaskRejected {
        if (content.length > MAX_TASK_BYTES) {
            throw new TaskRejected(
                    "the task file is " + content.length + " bytes; at most " + MAX_TASK_BYTES + " are read");
        }
        JsonNode tree;
        try {
            tree = (file.getFileName().toString().endsWith(".json") ? JSON : YAML).readTree(content);
        } catch (IOException e) {
            throw new TaskRejected("the task file is not valid "
                    + (file.toString().endsWith(".json") ? "JSON" : "YAML") + ": " + firstLine(e.getMessage()));
        }
        CopyTask task = TaskParser.parse(tree);
        if (!task.name().equals(nameOf(file))) {
            throw new TaskRejected("metadata.name '" + task.name() + "' differs from the file's name '" + nameOf(file)
                    + "': name the file after the task");
        }
        return task;
    }

    static Optional<TaskStatus> readStatus(Path file) throws IOException {
        if (!Files.exists(file)) return Optional.empty();
        return Optional.of(JSON.readValue(file.toFile(), TaskStatus.class));
    }

    /** Replaces the status file in one rename; a terminal status is also synced, so it survives a node crash. */
    static void writeStatus(Path file, TaskStatus status) throws IOException {
        Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(temporary, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(status));
        if (status.phase().terminal()) {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static ObjectMapper json() {
        return JSON;
    }

    private static String firstLine(String message) {
        if (message == null) return "unreadable";
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }
}
