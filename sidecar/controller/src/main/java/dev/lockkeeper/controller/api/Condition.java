package dev.lockkeeper.controller.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** A {@code metav1.Condition}: {@code Authorized}, {@code SourceReady}, {@code Running}, {@code Ready}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Condition(String type, String status, String reason, String message, String lastTransitionTime) {
    public static final String AUTHORIZED = "Authorized";
    public static final String SOURCE_READY = "SourceReady";
    public static final String RUNNING = "Running";
    public static final String READY = "Ready";

    public boolean isTrue() {
        return "True".equals(status);
    }
}
