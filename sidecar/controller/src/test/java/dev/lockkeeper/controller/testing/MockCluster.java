package dev.lockkeeper.controller.testing;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * fabric8's mock API server in CRUD mode, as the webhook's tests start it (webhook/src/test/.../MockApiServer.java,
 * whose teardown note applies here too: only the mock's own watch-close timeout is tolerated), with one defect of the
 * mock (7.8) worked around.
 *
 * <p>A JSON patch that cannot be applied (a {@code test} op that fails, as the controller's resourceVersion test does
 * whenever its informer view is stale, or a {@code remove} of a missing path) makes the mock's PatchHandler throw a
 * {@link JsonPatchException} that nothing catches: Vert.x logs "Unhandled exception" and the request gets no answer,
 * so the client waits out its request timeout (about 30 s) with the controller's one worker thread blocked in it,
 * and every copy behind it stalls. A real API server answers such a patch at once with 422 (apiserver's patcher:
 * {@code NewGenericServerResponse(StatusUnprocessableEntity, ...)}), which the controller retries with backoff. This
 * dispatcher gives that answer, so the tests see the API server's behaviour rather than the mock's hang.
 */
public final class MockCluster {
    /** Held so the level sticks (JUL keeps loggers weakly): the mock logs every request at INFO, thousands a test. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

    /** The CRDs as {@code kubectl apply -k manifests/} installs them (paths from the controller module). */
    public static final Path CRDS = Path.of("../../manifests/base/crds");

    private MockCluster() {}

    /**
     * What every copy test's cluster has before a test adds its objects: the VolumeCopy and CopyTask CRDs, and the
     * storage classes {@code fast} (Immediate binding) and {@code local} (WaitForFirstConsumer) of one CSI driver.
     */
    public static void installCopyBasics(KubernetesClient client) throws IOException {
        for (String crd : List.of("volumecopies.yaml", "copytasks.yaml")) {
            try (var in = Files.newInputStream(CRDS.resolve(crd))) {
                client.load(in).create();
            }
        }
        for (String mode : List.of("Immediate", "WaitForFirstConsumer")) {
            client.resource(new StorageClassBuilder()
                            .withNewMetadata()
                            .withName(mode.equals("Immediate") ? "fast" : "local")
                            .endMetadata()
                            .withProvisioner("csi.example.com")
                            .withVolumeBindingMode(mode)
                            .withReclaimPolicy("Delete")
                            .build())
                    .create();
        }
    }

    public static KubernetesMockServer startCrud() {
        MOCK_LOG.setLevel(Level.WARNING);
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var server = new KubernetesMockServer(
                new Context(), new MockWebServer(), responses, new PatchFailuresAnswered(responses), true);
        server.init();
        return server;
    }

    /**
     * A client of {@code server} that waits a minute for an answer: on a loaded machine the mock's first answers can
     * take longer than the client's 10 s, and a create that the client then retries fails with 409 on its own first
     * attempt.
     */
    public static KubernetesClient patientClient(KubernetesMockServer server) {
        try (KubernetesClient plain = server.createClient()) {
            return new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder(plain.getConfiguration())
                            .withRequestTimeout(60_000)
                            .build())
                    .build();
        }
    }

    public static void destroy(KubernetesMockServer server) {
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof TimeoutException)) throw e;
            System.err.println("mock API server: shutdown timed out in its own watch-close deadlock; left to finish");
        }
    }

    /** The CRUD dispatcher, answering a patch that does not apply with the API server's 422 instead of nothing. */
    static final class PatchFailuresAnswered extends KubernetesMixedDispatcher {
        PatchFailuresAnswered(Map<ServerRequest, Queue<ServerResponse>> responses) {
            super(responses);
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            try {
                return super.dispatch(request);
            } catch (JsonPatchException e) {
                var status = new StatusBuilder()
                        .withStatus("Failure")
                        .withReason("Invalid")
                        .withCode(422)
                        .withMessage(
                                "the server rejected our request due to an error in our request: " + e.getMessage())
                        .build();
                return new MockResponse().setResponseCode(422).setBody(Serialization.asJson(status));
            }
        }
    }
}
