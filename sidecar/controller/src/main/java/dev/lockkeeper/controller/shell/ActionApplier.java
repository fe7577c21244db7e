package dev.lockkeeper.controller.shell;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.plan.Action;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Applies a plan's actions in order, each idempotently: a create that finds the object exists, or a delete that finds
 * it gone, has done its job. Patches are JSON patches built against the object the planner saw, with a {@code test}
 * of its resourceVersion where a stale view could do harm (the finalizer list, the PV's claimRef).
 */
final class ActionApplier {
    private static final System.Logger LOG = System.getLogger(ActionApplier.class.getName());
    private final KubernetesClient client;
    private final Clock clock;
    /**
     * Told of each action once it is applied: a test's crash point (ControllerKilledAtEachStepTest stops the
     * controller right after its k-th action, so the next controller must finish from exactly there).
     */
    private final Consumer<Action> applied;

    ActionApplier(KubernetesClient client, Clock clock) {
        this(client, clock, action -> {});
    }

    ActionApplier(KubernetesClient client, Clock clock, Consumer<Action> applied) {
        this.client = client;
        this.clock = clock;
        this.applied = applied;
    }

    /**
     * @param target the target PVC as planned against
     * @param copy   its VolumeCopy as planned against (null when there is none)
     */
    void apply(
            List<Action> actions,
            PersistentVolumeClaim target,
            GenericKubernetesResource copy,
            Map<String, PersistentVolume> volumes) {
        PersistentVolumeClaim current = target;
        for (Action action : actions) {
            switch (action) {
                case Action.Create create -> create(create.object());
                case Action.Delete delete -> delete(delete);
                // a pass may write the target twice (annotations first, the finalizer's release last): the second
                // write tests the resourceVersion the first one produced
                case Action.PatchTarget patch -> current = patchTarget(current, patch);
                case Action.UpdateCopyStatus update -> updateStatus(copy, update);
                case Action.PatchVolume patch -> patchVolume(volumes.get(patch.name()), patch);
                case Action.CancelTask cancel ->
                    client.genericKubernetesResources(Resources.COPY_TASKS)
                            .inNamespace(cancel.namespace())
                            .withName(cancel.name())
                            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancel\":true}}");
                case Action.Emit emit -> emit(target, emit);
            }
            applied.accept(action);
        }
    }

    private void create(HasMetadata object) {
        try {
            if (object instanceof GenericKubernetesResource generic) {
                client.genericKubernetesResources(
                                VolumeCopy.KIND.equals(generic.getKind())
                                        ? Resources.VOLUME_COPIES
                                        : Resources.COPY_TASKS)
                        .inNamespace(generic.getMetadata().getNamespace())
                        .resource(generic)
                        .create();
            } else {
                client.resource(object).create();
            }
            LOG.log(
                    System.Logger.Level.INFO,
                    "created {0} {1}/{2}",
                    object.getKind(),
                    object.getMetadata().getNamespace(),
                    object.getMetadata().getName());
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw e;
        }
    }

    private void delete(Action.Delete delete) {
        switch (delete.kind()) {
            case "Pod" ->
                client.pods()
                        .inNamespace(delete.namespace())
                        .withName(delete.name())
                        .delete();
            case "PersistentVolumeClaim" ->
                client.persistentVolumeClaims()
                        .inNamespace(delete.namespace())
                        .withName(delete.name())
                        .delete();
            case CopyTaskResource.KIND ->
                client.genericKubernetesResources(Resources.COPY_TASKS)
                        .inNamespace(delete.namespace())
                        .withName(delete.name())
                        .delete();
            default -> throw new IllegalArgumentException("the controller deletes no " + delete.kind());
        }
        LOG.log(System.Logger.Level.INFO, "deleted {0} {1}/{2}", delete.kind(), delete.namespace(), delete.name());
    }

    private PersistentVolumeClaim patchTarget(PersistentVolumeClaim target, Action.PatchTarget patch) {
        ArrayNode ops = Json.MAPPER.createArrayNode();
        ops.addObject()
                .put("op", "test")
                .put("path", "/metadata/resourceVersion")
                .put("value", target.getMetadata().getResourceVersion());
        annotationOps(ops, target.getMetadata().getAnnotations(), patch.annotations());
        List<String> finalizers = target.getMetadata().getFinalizers() == null
                ? List.of()
                : target.getMetadata().getFinalizers();
        if (Boolean.TRUE.equals(patch.finalizer()) && !finalizers.contains(Keys.FINALIZER)) {
            if (target.getMetadata().getFinalizers() == null || finalizers.isEmpty()) {
                ops.addObject()
                        .put("op", "add")
                        .put("path", "/metadata/finalizers")
                        .set("value", Json.MAPPER.createArrayNode().add(Keys.FINALIZER));
            } else {
                ops.addObject()
                        .put("op", "add")
                        .put("path", "/metadata/finalizers/-")
                        .put("value", Keys.FINALIZER);
            }
        } else if (Boolean.FALSE.equals(patch.finalizer()) && finalizers.contains(Keys.FINALIZER)) {
            ops.addObject()
                    .put("op", "remove")
                    .put("path", "/metadata/finalizers/" + finalizers.indexOf(Keys.FINALIZER));
        }
        if (ops.size() == 1) return target;
        return client.persistentVolumeClaims()
                .inNamespace(target.getMetadata().getNamespace())
                .withName(target.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON), ops.toString());
    }

    private void patchVolume(PersistentVolume pv, Action.PatchVolume patch) {
        if (pv == null) throw new IllegalStateException("PV " + patch.name() + " is not in the informer's view");
        ArrayNode ops = Json.MAPPER.createArrayNode();
        ops.addObject()
                .put("op", "test")
                .put("path", "/metadata/resourceVersion")
                .put("value", pv.getMetadata().getResourceVersion());
        annotationOps(ops, pv.getMetadata().getAnnotations(), patch.annotations());
        if (patch.reclaimPolicy() != null) {
            ops.addObject()
                    .put("op", "add")
                    .put("path", "/spec/persistentVolumeReclaimPolicy")
                    .put("value", patch.reclaimPolicy());
        }
        if (patch.claimRef() != null)
            ops.addObject().put("op", "add").put("path", "/spec/claimRef").set("value", Json.tree(patch.claimRef()));
        client.persistentVolumes().withName(patch.name()).patch(PatchContext.of(PatchType.JSON), ops.toString());
        LOG.log(System.Logger.Level.INFO, "patched PV {0}: {1}", patch.name(), ops);
    }

    private static void annotationOps(ArrayNode ops, Map<String, String> current, Map<String, String> wanted) {
        boolean any = wanted.values().stream().anyMatch(v -> v != null);
        if (any && (current == null || current.isEmpty())) {
            ops.addObject()
                    .put("op", "add")
                    .put("path", "/metadata/annotations")
                    .set("value", Json.MAPPER.createObjectNode());
        }
        wanted.forEach((key, value) -> {
            String path = "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1");
            if (value != null)
                ops.addObject().put("op", "add").put("path", path).put("value", value);
            else if (current != null && current.containsKey(key))
                ops.addObject().put("op", "remove").put("path", path);
        });
    }

    private void updateStatus(GenericKubernetesResource copy, Action.UpdateCopyStatus update) {
        GenericKubernetesResource changed = Json.MAPPER.convertValue(copy, GenericKubernetesResource.class);
        changed.setAdditionalProperty("status", Json.MAPPER.convertValue(update.status(), Map.class));
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(copy.getMetadata().getNamespace())
                .resource(changed)
                .updateStatus();
    }

    /** Events named after what they say, so a repeat raises the count of one Event instead of adding another. */
    private void emit(PersistentVolumeClaim target, Action.Emit emit) {
        String now = clock.instant().toString();
        String name = target.getMetadata().getName() + "."
                + digest(target.getMetadata().getUid() + emit.reason() + emit.message());
        String namespace = target.getMetadata().getNamespace();
        var events = client.v1().events().inNamespace(namespace);
        var existing = events.withName(name).get();
        if (existing != null) {
            ObjectNode patch = Json.MAPPER.createObjectNode();
            patch.put("count", (existing.getCount() == null ? 1 : existing.getCount()) + 1)
                    .put("lastTimestamp", now);
            events.withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
            return;
        }
        try {
            events.resource(new EventBuilder()
                            .withNewMetadata()
                            .withName(name)
                            .withNamespace(namespace)
                            .endMetadata()
                            .withNewInvolvedObject()
                            .withApiVersion("v1")
                            .withKind("PersistentVolumeClaim")
                            .withNamespace(namespace)
                            .withName(target.getMetadata().getName())
                            .withUid(target.getMetadata().getUid())
                            .endInvolvedObject()
                            .withType(emit.type())
                            .withReason(emit.reason())
                            .withMessage(emit.message())
                            .withCount(1)
                            .withFirstTimestamp(now)
                            .withLastTimestamp(now)
                            .withNewSource()
                            .withComponent("lockkeeper-controller")
                            .endSource()
                            .withReportingComponent("lockkeeper.dev/controller")
                            .build())
                    .create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw e;
        }
    }

    private static String digest(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)))
                    .substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
