package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * CDI's {@code validateExternalPopulation}, {@code validateDataSource} and {@code validateDataSourceRef}:
 * a DataVolume whose target names a {@code dataSource}/{@code dataSourceRef} is populated by a volume
 * populator (Lockkeeper's own {@code lockkeeper.dev} VolumeCopy among them) and needs no CDI source.
 */
final class ExternalPopulation {
    private static final String CORE_CLAIM_KIND = "PersistentVolumeClaim";

    private ExternalPopulation() {}

    /** Every problem, in CDI's order (CDI collects them all here rather than stopping at the first). */
    static List<Cause> problems(JsonNode spec, String targetField, JsonNode dataSource, JsonNode dataSourceRef) {
        List<Cause> causes = new ArrayList<>();
        if (spec.path("source").isObject() || spec.path("sourceRef").isObject()) {
            causes.add(Cause.invalid("spec.source", "External population is incompatible with Source and SourceRef"));
        }
        // CDI compares a TypedLocalObjectReference with a TypedObjectReference through Semantic.DeepEqual, which is
        // false for any two values of different types; Lockkeeper compares what both name (see the README deviations).
        if (dataSource.isObject() && dataSourceRef.isObject() && !sameTarget(dataSource, dataSourceRef)) {
            causes.add(Cause.invalid(targetField, "DataSourceRef and DataSource must match"));
        }
        if (dataSource.isObject()) referenceProblems(dataSource, targetField + ".dataSource", "DataSource", causes);
        if (dataSourceRef.isObject()) {
            if (!Json.text(dataSourceRef, "namespace").isEmpty()) {
                causes.add(Cause.invalid(
                        targetField + ".dataSourceRef.namespace",
                        "Invalid value: DataSourceRef namespace not supported"));
            }
            referenceProblems(dataSourceRef, targetField + ".dataSourceRef", "DataSourceRef", causes);
        }
        return causes;
    }

    private static void referenceProblems(JsonNode reference, String field, String label, List<Cause> causes) {
        if (Json.text(reference, "name").isEmpty())
            causes.add(Cause.invalid(field + ".name", "Required value: " + label + " name"));
        String kind = Json.text(reference, "kind");
        if (kind.isEmpty()) causes.add(Cause.invalid(field + ".kind", "Required value: " + label + " kind"));
        if (Json.text(reference, "apiGroup").isEmpty() && !kind.equals(CORE_CLAIM_KIND)) {
            causes.add(Cause.invalid(
                    field + ".apiGroup",
                    "Required value: " + label + " apiGroup when kind is not 'PersistentVolumeClaim'"));
        }
    }

    private static boolean sameTarget(JsonNode dataSource, JsonNode dataSourceRef) {
        return Json.text(dataSource, "apiGroup").equals(Json.text(dataSourceRef, "apiGroup"))
                && Json.text(dataSource, "kind").equals(Json.text(dataSourceRef, "kind"))
                && Json.text(dataSource, "name").equals(Json.text(dataSourceRef, "name"))
                && Json.text(dataSourceRef, "namespace").isEmpty();
    }
}
