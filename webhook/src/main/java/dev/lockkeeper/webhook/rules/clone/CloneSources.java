package dev.lockkeeper.webhook.rules.clone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.Optional;

/**
 * Resolves a DataVolume spec to the PVC or snapshot it clones (CDI's {@code newCloneSourceHandler}):
 * {@code spec.source.pvc}, {@code spec.source.snapshot}, or {@code spec.sourceRef} to a DataSource,
 * which is followed to its own PVC or snapshot. Only the resolved source is ever authorized.
 */
public final class CloneSources {
    // DataSources may point at DataSources; the chain is short in practice and must not loop.
    private static final int MAX_DATA_SOURCE_HOPS = 5;

    private CloneSources() {}

    public static CloneSource resolve(JsonNode dataVolume, String targetNamespace, ClusterView cluster) {
        JsonNode spec = dataVolume.path("spec");
        JsonNode source = spec.path("source");
        if (source.path("pvc").isObject()) return located(CloneSource.Kind.PVC, source.path("pvc"), targetNamespace, "spec.source.pvc");
        if (source.path("snapshot").isObject()) {
            return located(CloneSource.Kind.SNAPSHOT, source.path("snapshot"), targetNamespace, "spec.source.snapshot");
        }
        JsonNode sourceRef = spec.path("sourceRef");
        if (sourceRef.isObject() && "DataSource".equals(Json.text(sourceRef, "kind"))) {
            String namespace = Json.text(sourceRef, "namespace");
            return fromDataSource(namespace.isEmpty() ? targetNamespace : namespace, Json.text(sourceRef, "name"), cluster, 0);
        }
        return new CloneSource.NotAClone();
    }

    private static CloneSource fromDataSource(String namespace, String name, ClusterView cluster, int hops) {
        Optional<ObjectNode> found = cluster.get(ResourceType.DATA_SOURCE, namespace, name);
        if (found.isEmpty()) {
            return new CloneSource.Unresolved(Cause.notFound("spec.sourceRef",
                    "SourceRef DataSource/" + namespace + "/" + name + " not found"));
        }
        ObjectNode dataSource = found.get();
        JsonNode source = dataSource.path("spec").path("source");
        if (source.path("pvc").isObject()) return located(CloneSource.Kind.PVC, source.path("pvc"), namespace, "spec.sourceRef");
        if (source.path("snapshot").isObject()) {
            return located(CloneSource.Kind.SNAPSHOT, source.path("snapshot"), namespace, "spec.sourceRef");
        }
        JsonNode resolved = dataSource.path("status").path("source");
        if (resolved.path("pvc").isObject()) return located(CloneSource.Kind.PVC, resolved.path("pvc"), namespace, "spec.sourceRef");
        if (resolved.path("snapshot").isObject()) {
            return located(CloneSource.Kind.SNAPSHOT, resolved.path("snapshot"), namespace, "spec.sourceRef");
        }
        JsonNode next = source.path("dataSource");
        if (next.isObject() && hops < MAX_DATA_SOURCE_HOPS) {
            String nextNamespace = Json.text(next, "namespace");
            return fromDataSource(nextNamespace.isEmpty() ? namespace : nextNamespace, Json.text(next, "name"), cluster, hops + 1);
        }
        return new CloneSource.Unresolved(Cause.invalid("spec.sourceRef",
                "DataSource " + namespace + "/" + name + " does not resolve to a PVC or VolumeSnapshot"));
    }

    private static CloneSource located(CloneSource.Kind kind, JsonNode reference, String defaultNamespace, String field) {
        String namespace = Json.text(reference, "namespace");
        return new CloneSource.Located(kind, namespace.isEmpty() ? defaultNamespace : namespace, Json.text(reference, "name"), field);
    }
}
