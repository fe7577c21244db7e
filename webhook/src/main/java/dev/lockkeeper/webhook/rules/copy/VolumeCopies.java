package dev.lockkeeper.webhook.rules.copy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What Lockkeeper's VolumeCopies hold on to: a copy reads its source PVC until its phase (CDI's DataVolume phase names,
 * controller {@code api/VolumeCopy.Phase}) is Succeeded or Failed; a new copy without status already counts.
 */
final class VolumeCopies {
    static final String GROUP = "lockkeeper.dev";
    private static final Set<String> FINISHED_PHASES = Set.of("Succeeded", "Failed");

    private VolumeCopies() {}

    static boolean active(JsonNode copy) {
        return !FINISHED_PHASES.contains(Json.text(copy, "status", "phase"));
    }

    /** Active copies reading PVC {@code namespace}/{@code claim}. */
    static List<ObjectNode> reading(ClusterView cluster, String namespace, String claim) {
        return cluster.byIndex(ClusterIndex.COPY_SOURCES, namespace + "/" + claim).stream()
                .filter(VolumeCopies::active)
                .toList();
    }

    /** {@code team-b/fedora-copy (CloneInProgress), team-c/other (no status yet)}. */
    static String describe(List<ObjectNode> copies) {
        return copies.stream()
                .map(c -> Json.text(c, "metadata", "namespace") + "/" + Json.text(c, "metadata", "name") + " ("
                        + (Json.text(c, "status", "phase").isEmpty()
                                ? "no status yet"
                                : Json.text(c, "status", "phase"))
                        + ")")
                .collect(Collectors.joining(", "));
    }
}
