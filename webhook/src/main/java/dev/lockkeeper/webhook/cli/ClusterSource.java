package dev.lockkeeper.webhook.cli;

import dev.lockkeeper.webhook.cluster.ManifestClusterView;
import dev.lockkeeper.webhook.cluster.ManifestException;
import dev.lockkeeper.webhook.cluster.Manifests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the embedded cluster comes from: a directory, or the example shipped inside the jar. */
final class ClusterSource {
    static final String EXAMPLE_RESOURCE = "/example-cluster.yaml";

    private ClusterSource() {}

    static ManifestClusterView embedded(Path directory) {
        if (directory != null) return new ManifestClusterView(Manifests.readDirectory(directory));
        try (InputStream in = ClusterSource.class.getResourceAsStream(EXAMPLE_RESOURCE)) {
            if (in == null)
                throw new ManifestException("example cluster missing from the jar (" + EXAMPLE_RESOURCE + ")");
            return new ManifestClusterView(Manifests.read("example-cluster.yaml", in));
        } catch (IOException e) {
            throw new ManifestException("cannot read the example cluster: " + e.getMessage());
        }
    }

    /** True when fabric8 would find a cluster: $KUBECONFIG, ~/.kube/config, or an in-cluster token. */
    static boolean kubeconfigAvailable() {
        String kubeconfig = System.getenv("KUBECONFIG");
        if (kubeconfig != null && !kubeconfig.isBlank()) {
            for (String file : kubeconfig.split(java.io.File.pathSeparator))
                if (Files.isRegularFile(Path.of(file))) return true;
        }
        return Files.isRegularFile(Path.of(System.getProperty("user.home"), ".kube", "config"))
                || Files.isRegularFile(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token"));
    }
}
