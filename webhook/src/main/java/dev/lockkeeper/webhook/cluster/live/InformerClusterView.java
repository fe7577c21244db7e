package dev.lockkeeper.webhook.cluster.live;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live cluster: one shared informer per resource type the rules read, so admission decisions
 * are in-memory lookups; SubjectAccessReviews go to the API server through a short-lived cache.
 */
public final class InformerClusterView implements ClusterView, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InformerClusterView.class);

    /** How often a kind the cluster does not serve is asked for again, unless the caller says otherwise. */
    public static final Duration DEFAULT_UNSERVED_RETRY = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final Map<ResourceType, SharedIndexInformer<GenericKubernetesResource>> informers =
            new ConcurrentHashMap<>();
    private final Set<ResourceType> unserved = ConcurrentHashMap.newKeySet();
    private final List<ResourceType> types;
    private final Duration unservedRetry;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("lk-unserved-retry").factory());
    private final CachingAccessReviewer reviewer;
    private final DirectReader reader;
    private volatile boolean closed;

    public InformerClusterView(KubernetesClient client, List<ResourceType> types, SarSettings sar) {
        this(client, types, sar, Ticker.systemTicker(), DEFAULT_UNSERVED_RETRY);
    }

    /**
     * {@code ticker} drives the SubjectAccessReview and direct-read caches (tests step it); a kind the cluster does not
     * serve is listed again every {@code unservedRetry}, so installing KubeVirt or CDI after the webhook needs no restart.
     */
    public InformerClusterView(
            KubernetesClient client, List<ResourceType> types, SarSettings sar, Ticker ticker, Duration unservedRetry) {
        this.client = client;
        this.types = List.copyOf(types);
        this.unservedRetry = unservedRetry;
        this.reviewer = new CachingAccessReviewer(client, sar, ticker);
        this.reader = new DirectReader(client, sar.cacheTtl(), sar.cacheSize(), ticker);
    }

    /** Starts every informer; readiness follows {@link #synced()}. */
    public InformerClusterView start() {
        for (ResourceType type : types) startInformer(type, false);
        return this;
    }

    private SharedIndexInformer<GenericKubernetesResource> newInformer(ResourceType type) {
        var operation = client.genericKubernetesResources(ResourceContexts.of(type));
        SharedIndexInformer<GenericKubernetesResource> informer =
                type.namespaced() ? operation.inAnyNamespace().runnableInformer(0) : operation.runnableInformer(0);
        Map<String, Function<GenericKubernetesResource, List<String>>> indexers = new HashMap<>();
        for (ClusterIndex index : ClusterIndex.ALL) {
            if (index.type().equals(type))
                indexers.put(index.name(), resource -> index.keys().apply(Json.MAPPER.valueToTree(resource)));
        }
        if (!indexers.isEmpty()) informer.addIndexers(indexers);
        if (type.equals(ResourceType.POD)) informer.itemStore(new SlimPodStore());
        return informer;
    }

    /**
     * A first start registers the informer at once, so readiness waits for it. A retry of an unserved kind registers
     * it only once synced: until then the rules go on seeing none, and readiness never drops.
     */
    private void startInformer(ResourceType type, boolean retry) {
        if (closed) return;
        SharedIndexInformer<GenericKubernetesResource> informer = newInformer(type);
        if (!retry) informers.put(type, informer);
        informer.start().whenComplete((ok, failure) -> {
            if (failure == null) {
                if (retry) {
                    informers.put(type, informer);
                    unserved.remove(type);
                    LOG.info(type + " is served now; informer synced");
                } else {
                    LOG.info("informer for " + type + " synced");
                }
                if (closed) informer.close();
            } else if (notServed(failure)) {
                informer.close();
                // A cluster without KubeVirt (or without exports) must still get its DataVolume checks.
                if (unserved.add(type)) {
                    informers.remove(type);
                    LOG.warn(type + " is not served by this cluster (CRD not installed?); rules see none until it is"
                            + " (asked again every " + unservedRetry.toMillis() + " ms)");
                }
                scheduleRetry(type);
            } else {
                LOG.warn("informer for " + type + " failed to start: " + failure.getMessage());
            }
        });
    }

    private void scheduleRetry(ResourceType type) {
        try {
            retries.schedule(() -> startInformer(type, true), unservedRetry.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // close() has run; nothing is retried after it
        }
    }

    private static boolean notServed(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof KubernetesClientException e && e.getCode() == 404) return true;
        }
        return false;
    }

    @Override
    public Optional<ObjectNode> get(ResourceType type, String namespace, String name) {
        type.require(ResourceType.Access.INFORMER, "get");
        if (unserved.contains(type)) return Optional.empty();
        String key = type.namespaced() ? Cache.namespaceKeyFunc(namespace, name) : name;
        GenericKubernetesResource found = informer(type).getIndexer().getByKey(key);
        return Optional.ofNullable(found).map(resource -> (ObjectNode) Json.MAPPER.valueToTree(resource));
    }

    @Override
    public List<ObjectNode> list(ResourceType type, String namespace) {
        type.require(ResourceType.Access.INFORMER, "list");
        if (unserved.contains(type)) return List.of();
        var indexer = informer(type).getIndexer();
        List<GenericKubernetesResource> found =
                namespace == null ? indexer.list() : indexer.byIndex(Cache.NAMESPACE_INDEX, namespace);
        List<ObjectNode> objects = new ArrayList<>(found.size());
        for (GenericKubernetesResource resource : found) objects.add(Json.MAPPER.valueToTree(resource));
        return objects;
    }

    @Override
    public List<ObjectNode> byIndex(ClusterIndex index, String key) {
        index.type().require(ResourceType.Access.INFORMER, "byIndex");
        if (unserved.contains(index.type())) return List.of();
        List<ObjectNode> objects = new ArrayList<>();
        for (GenericKubernetesResource resource :
                informer(index.type()).getIndexer().byIndex(index.name(), key)) {
            objects.add(Json.MAPPER.valueToTree(resource));
        }
        return objects;
    }

    @Override
    public Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        type.require(ResourceType.Access.DIRECT, "read");
        return reader.read(type, namespace, name);
    }

    @Override
    public AccessDecision review(AccessReview review) {
        return reviewer.review(review);
    }

    @Override
    public AccessDecision review(AccessReview review, Duration budget) {
        return reviewer.review(review, budget);
    }

    @Override
    public boolean synced() {
        return types.stream().allMatch(type -> {
            var informer = informers.get(type);
            return unserved.contains(type) || informer != null && informer.hasSynced();
        });
    }

    private SharedIndexInformer<GenericKubernetesResource> informer(ResourceType type) {
        var informer = informers.get(type);
        if (informer == null)
            throw new IllegalStateException(
                    "no informer for " + type + " (informer-backed, but not among this view's watched types)");
        return informer;
    }

    @Override
    public void close() {
        closed = true;
        retries.shutdownNow();
        informers.values().forEach(SharedIndexInformer::close);
    }
}
