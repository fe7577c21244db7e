package dev.lockkeeper.webhook.cluster;

import java.util.List;
import java.util.Map;

/**
 * The spec of a SubjectAccessReview with resource attributes: who ({@code user}, {@code groups},
 * {@code extra}) wants to do what ({@code verb} on {@code group}/{@code resource}/{@code subresource}
 * named {@code name} in {@code namespace}). A record so it can key a cache.
 */
public record AccessReview(
        String user,
        List<String> groups,
        Map<String, List<String>> extra,
        String namespace,
        String verb,
        String group,
        String resource,
        String subresource,
        String name) {
    public AccessReview {
        groups = List.copyOf(groups);
        extra = Map.copyOf(extra);
        subresource = subresource == null ? "" : subresource;
        name = name == null ? "" : name;
    }

    /** {@code resource/subresource} as RBAC rules spell it. */
    public String resourcePath() {
        return subresource.isEmpty() ? resource : resource + "/" + subresource;
    }
}
