package dev.lockkeeper.webhook.rules.clone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.util.Optional;

/**
 * Resolves a DataVolume spec to the PVC or snapshot it clones, as CDI's {@code newCloneSourceHandler}:
 * {@code spec.source.pvc} or {@code spec.source.snapshot} when there is a {@code spec.source} (a
 * {@code sourceRef} beside it is then not looked at), else {@code spec.sourceRef} to a DataSource, whose
 * {@code spec.source} names the PVC or snapshot, or, for a DataSource that points at another
 * DataSource, whose {@code status.source} does (CDI's DataSource controller resolves that chain). A
 * DataSource that names neither yet (a DataImportCron before its first import) is not a clone. Only
 * the resolved source is ever authorized.
 */
public final class CloneSources {
    private CloneSources() {}

    public static CloneSource resolve(JsonNode dataVolume, String targetNamespace, ClusterView cluster) {
        JsonNode spec = dataVolume.path("spec");
        JsonNode source = spec.path("source");
        if (source.isObject()) {
            if (source.path("pvc").isObject())
                return located(CloneSource.Kind.PVC, source.path("pvc"), targetNamespace, "spec.source.pvc");
            if (source.path("snapshot").isObject()) {
                return located(
                        CloneSource.Kind.SNAPSHOT, source.path("snapshot"), targetNamespace, "spec.source.snapshot");
            }
            return new CloneSource.NotAClone();
        }
        JsonNode sourceRef = spec.path("sourceRef");
        if (sourceRef.isObject() && "DataSource".equals(Json.text(sourceRef, "kind"))) {
            String namespace = Json.text(sourceRef, "namespace");
            // Upstream's lookup of a nameless DataSource fails; say what the validating webhook would say.
            if (Json.text(sourceRef, "name").isEmpty()) {
                return new CloneSource.Unresolved(Cause.invalid("spec.sourceRef.name", "Missing sourceRef name"));
            }
            return fromDataSource(
                    namespace.isEmpty() ? targetNamespace : namespace, Json.text(sourceRef, "name"), cluster);
        }
        return new CloneSource.NotAClone();
    }

    private static CloneSource fromDataSource(String namespace, String name, ClusterView cluster) {
        Optional<ObjectNode> found = cluster.get(ResourceType.DATA_SOURCE, namespace, name);
        if (found.isEmpty()) {
            return new CloneSource.Unresolved(
                    Cause.notFound("spec.sourceRef", "SourceRef DataSource/" + namespace + "/" + name + " not found"));
        }
        JsonNode dataSourceSpec = found.get().path("spec").path("source");
        JsonNode source = dataSourceSpec.path("dataSource").isObject()
                ? found.get().path("status").path("source")
                : dataSourceSpec;
        // A DataSource PVC without namespace is looked up in the DataSource's namespace, where CDI's DataSource
        // controller looks (CDI's webhook would take the DataVolume's; see the README deviations).
        if (source.path("pvc").isObject())
            return located(CloneSource.Kind.PVC, source.path("pvc"), namespace, "spec.sourceRef");
        if (source.path("snapshot").isObject()) {
            return located(CloneSource.Kind.SNAPSHOT, source.path("snapshot"), namespace, "spec.sourceRef");
        }
        return new CloneSource.NotAClone();
    }

    private static CloneSource located(
            CloneSource.Kind kind, JsonNode reference, String defaultNamespace, String field) {
        String namespace = Json.text(reference, "namespace");
        return new CloneSource.Located(
                kind, namespace.isEmpty() ? defaultNamespace : namespace, Json.text(reference, "name"), field);
    }
}
