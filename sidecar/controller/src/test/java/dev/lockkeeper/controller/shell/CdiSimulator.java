package dev.lockkeeper.controller.shell;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.controller.api.Json;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/**
 * CDI's share of a DataVolume populated by an external populator ({@code spec.storage.dataSourceRef}): its
 * DataVolume controller creates the target PVC of the DataVolume's name with that dataSourceRef and the requested
 * storage, controlled by the DataVolume (pkg/controller/datavolume/external-population-controller.go, via
 * {@code renderPvcSpec} and {@code newPersistentVolumeClaim}), and leaves the populating to the populator.
 */
final class CdiSimulator {
    static final ResourceDefinitionContext DATA_VOLUMES = new ResourceDefinitionContext.Builder()
            .withGroup("cdi.kubevirt.io")
            .withVersion("v1beta1")
            .withKind("DataVolume")
            .withPlural("datavolumes")
            .withNamespaced(true)
            .build();

    private final KubernetesClient client;

    CdiSimulator(KubernetesClient client) {
        this.client = client;
    }

    /** The DataVolume CRD, so the mock API server serves DataVolumes (any content: CDI's schema is not checked). */
    void installCrd() {
        client.resource(new CustomResourceDefinitionBuilder()
                        .withNewMetadata()
                        .withName("datavolumes.cdi.kubevirt.io")
                        .endMetadata()
                        .withNewSpec()
                        .withGroup("cdi.kubevirt.io")
                        .withScope("Namespaced")
                        .withNewNames()
                        .withKind("DataVolume")
                        .withPlural("datavolumes")
                        .withSingular("datavolume")
                        .endNames()
                        .addNewVersion()
                        .withName("v1beta1")
                        .withServed(true)
                        .withStorage(true)
                        .withNewSchema()
                        .withNewOpenAPIV3Schema()
                        .withType("object")
                        .withXKubernetesPreserveUnknownFields(true)
                        .endOpenAPIV3Schema()
                        .endSchema()
                        .endVersion()
                        .endSpec()
                        .build())
                .create();
    }

    GenericKubernetesResource create(GenericKubernetesResource dataVolume) {
        return client.genericKubernetesResources(DATA_VOLUMES)
                .inNamespace(dataVolume.getMetadata().getNamespace())
                .resource(dataVolume)
                .create();
    }

    /** The PVC CDI makes for the stored DataVolume {@code namespace/name}. */
    PersistentVolumeClaim createClaimFor(String namespace, String name) {
        GenericKubernetesResource dv = client.genericKubernetesResources(DATA_VOLUMES)
                .inNamespace(namespace)
                .withName(name)
                .get();
        JsonNode storage = Json.tree(dv).path("spec").path("storage");
        JsonNode ref = storage.path("dataSourceRef");
        var builder = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .addToLabels("app", "containerized-data-importer")
                .addNewOwnerReference()
                .withApiVersion(dv.getApiVersion())
                .withKind("DataVolume")
                .withName(name)
                .withUid(dv.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .endOwnerReference()
                .endMetadata()
                .withNewSpec()
                .withAccessModes(storage.path("accessModes").path(0).asText("ReadWriteOnce"))
                .withStorageClassName(storage.path("storageClassName").asText())
                .withNewResources()
                .addToRequests(
                        "storage",
                        new Quantity(storage.path("resources")
                                .path("requests")
                                .path("storage")
                                .asText()))
                .endResources()
                .withNewDataSourceRef()
                .withApiGroup(ref.path("apiGroup").asText())
                .withKind(ref.path("kind").asText())
                .withName(ref.path("name").asText())
                .endDataSourceRef()
                .endSpec();
        return client.resource(builder.build()).create();
    }
}
