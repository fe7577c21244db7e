package dev.lockkeeper.webhook.cluster.live;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pod informer's store. Every pod in the cluster is watched, but the rules read only a pod's identity, its
 * phase and the claims its volumes mount, so only that is kept: containers, env, probes and status conditions
 * would otherwise hold several KiB per pod in the webhook's heap. Indexes are computed from the full pod as it
 * arrives, and give the same keys on the slim copy, which the cache uses to drop old index entries.
 */
final class SlimPodStore extends BasicItemStore<GenericKubernetesResource> {
    SlimPodStore() {
        super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public GenericKubernetesResource put(String key, GenericKubernetesResource pod) {
        return super.put(key, slim(pod));
    }

    static GenericKubernetesResource slim(GenericKubernetesResource pod) {
        ObjectMeta metadata = pod.getMetadata();
        GenericKubernetesResource slim = new GenericKubernetesResource();
        slim.setApiVersion(pod.getApiVersion());
        slim.setKind(pod.getKind());
        slim.setMetadata(new ObjectMetaBuilder()
                .withName(metadata.getName())
                .withNamespace(metadata.getNamespace())
                .withUid(metadata.getUid())
                .withResourceVersion(metadata.getResourceVersion())
                .build());
        slim.setAdditionalProperty(
                "spec",
                Map.of("volumes", claimVolumes(pod.getAdditionalProperties().get("spec"))));
        if (pod.getAdditionalProperties().get("status") instanceof Map<?, ?> status
                && status.get("phase") instanceof String phase) {
            slim.setAdditionalProperty("status", Map.of("phase", phase));
        }
        return slim;
    }

    private static List<Map<String, Object>> claimVolumes(Object spec) {
        List<Map<String, Object>> kept = new ArrayList<>();
        if (!(spec instanceof Map<?, ?> podSpec) || !(podSpec.get("volumes") instanceof List<?> volumes)) return kept;
        for (Object volume : volumes) {
            if (volume instanceof Map<?, ?> entry
                    && entry.get("persistentVolumeClaim") instanceof Map<?, ?> claim
                    && claim.get("claimName") instanceof String claimName) {
                Map<String, Object> slimVolume = new LinkedHashMap<>();
                if (entry.get("name") instanceof String name) slimVolume.put("name", name);
                slimVolume.put("persistentVolumeClaim", Map.of("claimName", claimName));
                kept.add(slimVolume);
            }
        }
        return kept;
    }
}
