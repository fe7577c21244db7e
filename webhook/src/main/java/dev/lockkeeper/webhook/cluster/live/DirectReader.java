package dev.lockkeeper.webhook.cluster.live;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Duration;
import java.util.Optional;

/**
 * GETs single objects that are not worth a cluster-wide informer (a Secret a rule checks, the
 * Velero Restore an object names) and keeps answers, including "not found", briefly.
 */
final class DirectReader {
    private record Key(ResourceType type, String namespace, String name) {}

    private final KubernetesClient client;
    private final Cache<Key, Optional<ObjectNode>> cache;

    DirectReader(KubernetesClient client, Duration ttl, long size, Ticker ticker) {
        this.client = client;
        this.cache = Caffeine.newBuilder()
                .expireAfterWrite(ttl)
                .maximumSize(size)
                .ticker(ticker)
                .build();
    }

    Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        return cache.get(new Key(type, namespace, name), key -> fetch(type, namespace, name));
    }

    private Optional<ObjectNode> fetch(ResourceType type, String namespace, String name) {
        ResourceDefinitionContext context = ResourceContexts.of(type);
        var operation = client.genericKubernetesResources(context);
        GenericKubernetesResource found = type.namespaced()
                ? operation.inNamespace(namespace).withName(name).get()
                : operation.withName(name).get();
        return Optional.ofNullable(found).map(resource -> (ObjectNode) Json.MAPPER.valueToTree(resource));
    }
}
