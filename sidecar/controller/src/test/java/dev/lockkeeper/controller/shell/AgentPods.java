package dev.lockkeeper.controller.shell;

import dev.lockkeeper.controller.api.Keys;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The agent DaemonSet's pods as the API server shows them once running: what the controller reads a data address from. */
final class AgentPods {
    private AgentPods() {}

    /** Creates the Running, Ready agent pod of {@code node} at {@code podIp} in the installation namespace. */
    static Pod create(KubernetesClient client, String namespace, String node, String podIp) {
        return client.resource(new PodBuilder()
                        .withNewMetadata()
                        .withName("lockkeeper-agent-" + node)
                        .withNamespace(namespace)
                        .addToLabels("app.kubernetes.io/name", "lockkeeper")
                        .addToLabels(Keys.COMPONENT, Keys.COMPONENT_AGENT)
                        .endMetadata()
                        .withNewSpec()
                        .withNodeName(node)
                        .addNewContainer()
                        .withName("agent")
                        .withImage("lockkeeper-controller")
                        .withArgs("agent", "--node", node)
                        .endContainer()
                        .endSpec()
                        .withNewStatus()
                        .withPhase("Running")
                        .withPodIP(podIp)
                        .addNewCondition()
                        .withType("Ready")
                        .withStatus("True")
                        .endCondition()
                        .endStatus()
                        .build())
                .create();
    }
}
