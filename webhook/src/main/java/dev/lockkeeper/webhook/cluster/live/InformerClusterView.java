package dev.lockkeeper.webhook.cluster.live;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.function.Function;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The live cluster: one shared informer per resource type the rules read, so admission decisions
 * are in-memory lookups; SubjectAccessReviews go to the API server through a short-lived cache.
 */
public final class InformerClusterView implements ClusterView, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(InformerClusterView.class.getName());

    private final Map<ResourceType, SharedIndexInformer<GenericKubernetesResource>> informers = new LinkedHashMap<>();
    private final Set<ResourceType> unserved = ConcurrentHashMap.newKeySet();
    private final CachingAccessReviewer reviewer;
    private final DirectReader reader;

    public InformerClusterView(KubernetesClient client, List<ResourceType> types, SarSettings sar) {
        this(client, types, sar, Ticker.systemTicker());
    }

    /** {@code ticker} drives the SubjectAccessReview and direct-read caches (tests step it). */
    public InformerClusterView(KubernetesClient client, List<ResourceType> types, SarSettings sar, Ticker ticker) {
        this.reviewer = new CachingAccessReviewer(client, sar, ticker);
        this.reader = new DirectReader(client, sar.cacheTtl(), sar.cacheSize(), ticker);
        for (ResourceType type : types) {
            ResourceDefinitionContext context = ResourceContexts.of(type);
            var operation = client.genericKubernetesResources(context);
            SharedIndexInformer<GenericKubernetesResource> informer = type.namespaced()
                    ? operation.inAnyNamespace().runnableInformer(0) : operation.runnableInformer(0);
            Map<String, Function<GenericKubernetesResource, List<String>>> indexers = new HashMap<>();
            for (ClusterIndex index : ClusterIndex.ALL) {
                if (index.type().equals(type)) indexers.put(index.name(), resource -> index.keys().apply(Json.MAPPER.valueToTree(resource)));
            }
            if (!indexers.isEmpty()) informer.addIndexers(indexers);
            informers.put(type, informer);
        }
    }

    /** Starts every informer; readiness follows {@link #synced()}. */
    public InformerClusterView start() {
        informers.forEach((type, informer) -> informer.start().whenComplete((ok, failure) -> {
            if (failure == null) {
                LOG.info("informer for " + type + " synced");
            } else if (notServed(failure)) {
                // A cluster without KubeVirt (or without exports) must still get its DataVolume checks.
                unserved.add(type);
                informer.close();
                LOG.warning(type + " is not served by this cluster (CRD not installed?); rules see none. Restart after installing it.");
            } else {
                LOG.warning("informer for " + type + " failed to start: " + failure.getMessage());
            }
        }));
        return this;
    }

    private static boolean notServed(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof KubernetesClientException e && e.getCode() == 404) return true;
        }
        return false;
    }

    @Override
    public Optional<ObjectNode> get(ResourceType type, String namespace, String name) {
        if (unserved.contains(type)) return Optional.empty();
        String key = type.namespaced() ? Cache.namespaceKeyFunc(namespace, name) : name;
        GenericKubernetesResource found = informer(type).getIndexer().getByKey(key);
        return Optional.ofNullable(found).map(resource -> (ObjectNode) Json.MAPPER.valueToTree(resource));
    }

    @Override
    public List<ObjectNode> list(ResourceType type, String namespace) {
        if (unserved.contains(type)) return List.of();
        var indexer = informer(type).getIndexer();
        List<GenericKubernetesResource> found = namespace == null ? indexer.list() : indexer.byIndex(Cache.NAMESPACE_INDEX, namespace);
        List<ObjectNode> objects = new ArrayList<>(found.size());
        for (GenericKubernetesResource resource : found) objects.add(Json.MAPPER.valueToTree(resource));
        return objects;
    }

    @Override
    public List<ObjectNode> byIndex(ClusterIndex index, String key) {
        if (unserved.contains(index.type())) return List.of();
        List<ObjectNode> objects = new ArrayList<>();
        for (GenericKubernetesResource resource : informer(index.type()).getIndexer().byIndex(index.name(), key)) {
            objects.add(Json.MAPPER.valueToTree(resource));
        }
        return objects;
    }

    @Override
    public Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        return reader.read(type, namespace, name);
    }

    @Override
    public AccessDecision review(AccessReview review) {
        return reviewer.review(review);
    }

    @Override
    public boolean synced() {
        return informers.entrySet().stream().allMatch(e -> e.getValue().hasSynced() || unserved.contains(e.getKey()));
    }

    private SharedIndexInformer<GenericKubernetesResource> informer(ResourceType type) {
        var informer = informers.get(type);
        if (informer == null) throw new IllegalStateException("no informer for " + type + "; add it to the watched types");
        return informer;
    }

    @Override
    public void close() {
        informers.values().forEach(SharedIndexInformer::close);
    }
}
