package dev.lockkeeper.controller.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.plan.Names;
import dev.lockkeeper.controller.shell.Resources;
import dev.lockkeeper.sidecar.agent.CopyTask;
import dev.lockkeeper.sidecar.agent.TaskIntake;
import dev.lockkeeper.sidecar.agent.TaskParser;
import dev.lockkeeper.sidecar.agent.TaskRejected;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The agent's work intake in the cluster: the {@code CopyTask} resources of the installation namespace that name this
 * node as target or source (two informers, one per label the controller sets, since a label selector cannot say
 * "either"), status written through the status subresource. The agent behaves exactly as with a task directory: the
 * spec goes through the same {@link TaskParser}, so a resource it cannot run is rejected with the same words.
 *
 * <p>Both informers deliver on their own threads; events pass through one thread so that the agent sees them one at a
 * time, as {@link TaskIntake.Listener} requires. A same-node task is in both informers and is delivered twice, which
 * the agent treats as no change.
 */
public final class CopyTaskIntake implements TaskIntake {
    private final KubernetesClient client;
    private final String namespace;
    private final String node;
    private final ExecutorService events = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("lk-copytask-intake").factory());
    private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();

    public CopyTaskIntake(KubernetesClient client, String namespace, String node) {
        this.client = client;
        this.namespace = namespace;
        this.node = node;
    }

    @Override
    public void start(Listener listener) throws IOException {
        try {
            for (String role : List.of(Keys.TARGET_NODE, Keys.SOURCE_NODE)) {
                informers.add(client.genericKubernetesResources(Resources.COPY_TASKS)
                        .inNamespace(namespace)
                        .withLabel(role, Names.nodeLabel(node))
                        .inform(new Handler(listener), 0));
            }
            // the informers have listed; wait until the agent has heard of every task present now
            events.submit(() -> {}).get();
        } catch (KubernetesClientException | ExecutionException e) {
            close();
            throw new IOException("cannot watch CopyTasks in namespace " + namespace + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IOException("interrupted while listing CopyTasks", e);
        }
    }

    @Override
    public Optional<TaskStatus> lastStatus(String name) {
        return informers.stream()
                .map(informer -> informer.getStore().getByKey(namespace + "/" + name))
                .filter(Objects::nonNull)
                .map(resource -> resource.getAdditionalProperties().get("status"))
                .filter(Objects::nonNull)
                .map(status -> Json.MAPPER.convertValue(status, TaskStatus.class))
                .findFirst();
    }

    @Override
    public void publish(String name, TaskStatus status) throws IOException {
        String patch = Json.tree(Map.of("status", status)).toString();
        try {
            client.genericKubernetesResources(Resources.COPY_TASKS)
                    .inNamespace(namespace)
                    .withName(name)
                    .subresource("status")
                    .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND)
                return; // deleted meanwhile: the agent hears of it next
            throw new IOException(
                    "cannot write the status of CopyTask " + namespace + "/" + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        events.shutdownNow();
    }

    @Override
    public String toString() {
        return "CopyTask resources in namespace " + namespace + " naming node " + node;
    }

    private final class Handler implements ResourceEventHandler<GenericKubernetesResource> {
        private final Listener listener;

        Handler(Listener listener) {
            this.listener = listener;
        }

        @Override
        public void onAdd(GenericKubernetesResource resource) {
            events.execute(() -> deliver(resource));
        }

        @Override
        public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
            // our own status writes come back as updates: only a spec or label change is news to the agent
            if (Objects.equals(
                    before.getAdditionalProperties().get("spec"),
                    after.getAdditionalProperties().get("spec"))) return;
            events.execute(() -> deliver(after));
        }

        @Override
        public void onDelete(GenericKubernetesResource resource, boolean finalStateUnknown) {
            events.execute(() -> listener.removed(resource.getMetadata().getName()));
        }

        private void deliver(GenericKubernetesResource resource) {
            String name = resource.getMetadata().getName();
            JsonNode object = Json.tree(resource);
            CopyTask task;
            try {
                task = TaskParser.parse(object);
            } catch (TaskRejected e) {
                listener.rejected(name, e.getMessage());
                return;
            }
            listener.changed(task);
        }
    }
}
