package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One {@code admission.k8s.io/v1} request. {@code object} is what the rule judges; in a mutating
 * chain it is the object as changed by the rules before. Rules never modify it in place.
 */
public record AdmissionRequest(
        String uid,
        GroupVersionKind kind,
        GroupVersionResource resource,
        String subResource,
        Operation operation,
        String namespace,
        String name,
        UserInfo userInfo,
        ObjectNode object,
        ObjectNode oldObject,
        boolean dryRun) {

    public AdmissionRequest {
        subResource = subResource == null ? "" : subResource;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
    }

    public AdmissionRequest withObject(ObjectNode replacement) {
        return new AdmissionRequest(
                uid, kind, resource, subResource, operation, namespace, name, userInfo, replacement, oldObject, dryRun);
    }

    public boolean is(String group, String resourceName, String subresource) {
        return resource.group().equals(group)
                && resource.resource().equals(resourceName)
                && subResource.equals(subresource);
    }

    /** The namespace the object lives in: the request's, else the object's own. */
    public String objectNamespace() {
        if (!namespace.isEmpty()) return namespace;
        return object == null ? "" : object.path("metadata").path("namespace").asText("");
    }

    /** The object's name: the request's, else the object's own (empty for generateName creates). */
    public String objectName() {
        if (!name.isEmpty()) return name;
        return object == null ? "" : object.path("metadata").path("name").asText("");
    }
}
