package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.Keys;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The objects a copy needs besides its task: the prime PVC that receives the data, and the holder pods that make
 * kubelet attach and mount the volumes where the agents reach them. Holders run {@code pause} and nothing else:
 * restricted (non-root 65535, no capabilities, no privilege escalation, read-only root), no service account token,
 * and no {@code fsGroup}, so kubelet never chowns the source. The source is mounted read-only.
 */
final class Holders {
    static final String HOSTNAME = "kubernetes.io/hostname";
    static final String ROLE_SOURCE = "source-holder";
    static final String ROLE_TARGET = "target-holder";

    private Holders() {}

    static PersistentVolumeClaim prime(PersistentVolumeClaim target, Settings settings) {
        String uid = target.getMetadata().getUid();
        Map<String, String> annotations = new LinkedHashMap<>();
        String selectedNode = annotation(target, Keys.SELECTED_NODE);
        // lib-volume-populator copies the selected node so a WaitForFirstConsumer class provisions where the user's pod
        // runs
        if (selectedNode != null) annotations.put(Keys.SELECTED_NODE, selectedNode);
        annotations.put(
                Keys.TARGET,
                target.getMetadata().getNamespace() + "/" + target.getMetadata().getName());
        var spec = target.getSpec();
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName(Names.prime(uid))
                .withNamespace(settings.namespace())
                .withLabels(labels(uid, null, "prime"))
                .withAnnotations(annotations)
                .endMetadata()
                .withNewSpec()
                .withAccessModes(spec.getAccessModes())
                .withResources(spec.getResources())
                .withStorageClassName(spec.getStorageClassName())
                .withVolumeMode(spec.getVolumeMode())
                .endSpec()
                .build();
    }

    static Pod sourceHolder(PersistentVolumeClaim source, String priorityClassName, Settings settings) {
        String sourceUid = source.getMetadata().getUid();
        return holder(
                Names.sourceHolder(sourceUid),
                source.getMetadata().getNamespace(),
                labels(null, sourceUid, ROLE_SOURCE),
                source.getMetadata().getName(),
                block(source),
                true,
                priorityClassName,
                null,
                settings);
    }

    /**
     * Pinned to the selected node when the target's class waits for a consumer; otherwise it prefers the source
     * holder's node, so most copies are local (no network) while a busy node still leaves the scheduler a choice.
     */
    static Pod targetHolder(
            PersistentVolumeClaim target, PersistentVolumeClaim source, String priorityClassName, Settings settings) {
        String uid = target.getMetadata().getUid();
        String sourceUid = source.getMetadata().getUid();
        String selectedNode = annotation(target, Keys.SELECTED_NODE);
        Affinity affinity = selectedNode != null
                ? new AffinityBuilder()
                        .withNewNodeAffinity()
                        .withNewRequiredDuringSchedulingIgnoredDuringExecution()
                        .addNewNodeSelectorTerm()
                        .addNewMatchExpression()
                        .withKey(HOSTNAME)
                        .withOperator("In")
                        .withValues(selectedNode)
                        .endMatchExpression()
                        .endNodeSelectorTerm()
                        .endRequiredDuringSchedulingIgnoredDuringExecution()
                        .endNodeAffinity()
                        .build()
                : new AffinityBuilder()
                        .withNewPodAffinity()
                        .addNewPreferredDuringSchedulingIgnoredDuringExecution()
                        .withWeight(100)
                        .withNewPodAffinityTerm()
                        .withTopologyKey(HOSTNAME)
                        .withNamespaces(source.getMetadata().getNamespace())
                        .withNewLabelSelector()
                        .addToMatchLabels(Keys.ROLE, ROLE_SOURCE)
                        .addToMatchLabels(Keys.SOURCE_UID, sourceUid)
                        .endLabelSelector()
                        .endPodAffinityTerm()
                        .endPreferredDuringSchedulingIgnoredDuringExecution()
                        .endPodAffinity()
                        .build();
        return holder(
                Names.targetHolder(uid),
                settings.namespace(),
                labels(uid, sourceUid, ROLE_TARGET),
                Names.prime(uid),
                block(target),
                false,
                priorityClassName,
                affinity,
                settings);
    }

    private static Pod holder(
            String name,
            String namespace,
            Map<String, String> labels,
            String claim,
            boolean block,
            boolean readOnly,
            String priorityClassName,
            Affinity affinity,
            Settings settings) {
        ContainerBuilder container = new ContainerBuilder()
                .withName("hold")
                .withImage(settings.holderImage())
                .withNewSecurityContext()
                .withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .endSecurityContext()
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("1m"), "memory", new Quantity("4Mi")))
                .withLimits(Map.of("memory", new Quantity("16Mi")))
                .endResources();
        if (block)
            container
                    .addNewVolumeDevice()
                    .withName("data")
                    .withDevicePath("/dev/data")
                    .endVolumeDevice();
        else
            container
                    .addNewVolumeMount()
                    .withName("data")
                    .withMountPath("/data")
                    .withReadOnly(readOnly)
                    .endVolumeMount();
        Container built = container.build();
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withRestartPolicy("Always")
                .withPriorityClassName(
                        priorityClassName == null || priorityClassName.isEmpty() ? null : priorityClassName)
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(65535L)
                .withRunAsGroup(65535L)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .endSecurityContext()
                .withAffinity(affinity)
                .withContainers(built)
                .addNewVolume()
                .withName("data")
                .withNewPersistentVolumeClaim(claim, readOnly)
                .endVolume()
                .endSpec()
                .build();
    }

    static Map<String, String> labels(String targetUid, String sourceUid, String role) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Keys.MANAGED_BY, Keys.MANAGED_BY_VALUE);
        labels.put(Keys.ROLE, role);
        if (targetUid != null) labels.put(Keys.TARGET_UID, targetUid);
        if (sourceUid != null) labels.put(Keys.SOURCE_UID, sourceUid);
        return labels;
    }

    static boolean block(PersistentVolumeClaim claim) {
        return "Block".equals(claim.getSpec().getVolumeMode());
    }

    static String annotation(io.fabric8.kubernetes.api.model.HasMetadata object, String key) {
        var annotations = object.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }
}
