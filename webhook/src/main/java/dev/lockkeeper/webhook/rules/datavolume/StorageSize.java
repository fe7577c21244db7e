package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Optional;

/** {@code resources.requests.storage} of a DataVolume's {@code spec.pvc} or {@code spec.storage}, in bytes. */
public final class StorageSize {
    /** Go's {@code resource.ErrFormatWrong}: what the API server answers for a malformed quantity. */
    static final String QUANTITY_FORMAT =
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private StorageSize() {}

    /** The requested size; empty when not requested. Throws {@link IllegalArgumentException} for a malformed quantity. */
    public static Optional<BigDecimal> requested(JsonNode storageSpec) {
        JsonNode storage = storageSpec.path("resources").path("requests").path("storage");
        if (storage.isMissingNode() || storage.isNull()) return Optional.empty();
        String text = storage.isNumber() ? storage.asText() : storage.isTextual() ? storage.asText() : "";
        if (text.isBlank()) throw new IllegalArgumentException(storage + ": " + QUANTITY_FORMAT);
        try {
            return Optional.of(Quantity.getAmountInBytes(new Quantity(text.strip())));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("\"" + text + "\": " + QUANTITY_FORMAT);
        }
    }
}
