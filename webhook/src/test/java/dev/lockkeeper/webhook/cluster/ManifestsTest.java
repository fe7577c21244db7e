package dev.lockkeeper.webhook.cluster;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestsTest {
    @TempDir
    Path dir;

    @Test
    void readsMultiDocumentYamlJsonAndListsFromADirectoryTree() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), """
                apiVersion: v1
                kind: Namespace
                metadata: {name: one}
                ---
                # an empty document is fine
                ---
                apiVersion: v1
                kind: PersistentVolumeClaimList
                items:
                - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p1, namespace: one}}
                - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: p2, namespace: one}}
                """);
        Files.createDirectories(dir.resolve("nested"));
        Files.writeString(
                dir.resolve("nested/b.json"),
                "{\"apiVersion\":\"cdi.kubevirt.io/v1beta1\",\"kind\":\"DataSource\",\"metadata\":{\"name\":\"ds\",\"namespace\":\"one\"}}");
        Files.writeString(dir.resolve("README.md"), "not a manifest");
        ManifestClusterView view = new ManifestClusterView(Manifests.readDirectory(dir));
        assertTrue(view.get(ResourceType.NAMESPACE, "", "one").isPresent());
        assertEquals(
                List.of("p1", "p2"),
                view.list(ResourceType.PERSISTENT_VOLUME_CLAIM, "one").stream()
                        .map(p -> p.path("metadata").path("name").asText())
                        .toList());
        assertTrue(view.get(ResourceType.DATA_SOURCE, "one", "ds").isPresent());
        assertTrue(view.get(ResourceType.DATA_SOURCE, "two", "ds").isEmpty());
    }

    @Test
    void errorsNameTheFileAndDocument() throws Exception {
        Files.writeString(
                dir.resolve("bad.yaml"),
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nkind: Namespace\nmetadata: {name: x}\n");
        var e = assertThrows(ManifestException.class, () -> Manifests.readDirectory(dir));
        assertTrue(e.getMessage().contains("bad.yaml document 2: apiVersion is missing"), e.getMessage());
    }

    @Test
    void rejectsUnparseableYamlAndObjectsWithoutName() {
        var syntax = assertThrows(ManifestException.class, () -> read("apiVersion: v1\nkind: [unclosed\n"));
        assertTrue(syntax.getMessage().contains("not valid YAML/JSON"), syntax.getMessage());
        var unnamed =
                assertThrows(ManifestException.class, () -> read("apiVersion: v1\nkind: Namespace\nmetadata: {}\n"));
        assertTrue(unnamed.getMessage().contains("Namespace has no metadata.name"), unnamed.getMessage());
        var scalar = assertThrows(ManifestException.class, () -> read("just text\n"));
        assertTrue(scalar.getMessage().contains("expected a Kubernetes object"), scalar.getMessage());
    }

    @Test
    void missingDirectoryIsAClearError() {
        var e = assertThrows(ManifestException.class, () -> Manifests.readDirectory(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    private static void read(String yaml) {
        Manifests.read("inline", new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
    }
}
