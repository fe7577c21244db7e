package dev.lockkeeper.certs.token;

import java.util.Map;

/**
 * What a clone token grants, with CDI's claim names: {@code operation} on the source
 * {@code namespace}/{@code name} of kind {@code resource}, for the target in {@code params}
 * ({@code targetNamespace}, {@code targetName}, optionally {@code uid}).
 */
public record CloneTokenClaims(
        String operation, String name, String namespace, TokenResource resource, Map<String, String> params) {
    public static final String OPERATION_CLONE = "Clone";

    public CloneTokenClaims {
        params = Map.copyOf(params);
    }

    public static CloneTokenClaims clone(
            TokenResource resource,
            String sourceNamespace,
            String sourceName,
            String targetNamespace,
            String targetName) {
        return new CloneTokenClaims(
                OPERATION_CLONE,
                sourceName,
                sourceNamespace,
                resource,
                Map.of("targetNamespace", targetNamespace, "targetName", targetName));
    }

    /** A {@code metav1.GroupVersionResource} as CDI serialises it. */
    public record TokenResource(String group, String version, String resource) {
        public static final TokenResource PERSISTENT_VOLUME_CLAIMS =
                new TokenResource("", "v1", "persistentvolumeclaims");
        public static final TokenResource VOLUME_SNAPSHOTS =
                new TokenResource("snapshot.storage.k8s.io", "v1", "volumesnapshots");

        Map<String, Object> toClaim() {
            return Map.of("group", group, "version", version, "resource", resource);
        }
    }
}
