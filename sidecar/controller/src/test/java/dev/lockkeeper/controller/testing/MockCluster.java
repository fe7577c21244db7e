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
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.fabric8.zjsonpatch.JsonPatchException;
import io.vertx.core.Vertx;
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
 * whose teardown note applies here too: only the mock's own watch-close timeout is tolerated), with two defects of the
 * mock (7.8) worked around.
 *
 * <p>A JSON patch that cannot be applied (a {@code test} op that fails, as the controller's resourceVersion test does
 * whenever its informer view is stale, or a {@code remove} of a missing path) makes the mock's PatchHandler throw a
 * {@link JsonPatchException} that nothing catches: Vert.x logs "Unhandled exception" and the request gets no answer,
 * so the client waits out its request timeout (about 30 s) with the controller's one worker thread blocked in it,
 * and every copy behind it stalls. A real API server answers such a patch at once with 422 (apiserver's patcher:
 * {@code NewGenericServerResponse(StatusUnprocessableEntity, ...)}), which the controller retries with backoff. This
 * dispatcher gives that answer, so the tests see the API server's behaviour rather than the mock's hang.
 *
 * <p>A watch closed while the mock still has events to send it froze one of the mock's event loops for 30 s: the mock's
 * {@code WatchEventsListener.onClosed} runs on the Vert.x event loop and waits there for its send thread to finish,
 * while that thread's {@code VertxMockWebSocket.send} waits up to 30 s for a write that only the same event loop can
 * carry out. Every connection on that loop stalled meanwhile (an informer's watch, the controller's next write). A
 * controller closing its informers mid-copy hit it, as did a server shutdown with watches open. A real API server has
 * no such wait: the dispatcher hands each watch a socket whose sends run on its event loop
 * ({@link WatchSentOnItsEventLoop}), where the mock writes without waiting, so the close has nothing to wait for.
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
                MockResponse response = super.dispatch(request);
                WebSocketListener watch = response.getWebSocketListener();
                return watch == null ? response : response.withWebSocketUpgrade(new WatchSentOnItsEventLoop(watch));
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

    /**
     * The mock's watch listener, handed a socket whose sends and close run on the socket's own Vert.x event loop
     * instead of blocking the listener's send thread until that loop has written them. On its event loop the mock's
     * socket writes without waiting, in the order the listener sent (Vert.x runs a context's tasks in order, the close
     * behind the events queued before it), so the listener's close handling, which waits on the loop for its send
     * thread, has nothing left to wait for.
     */
    static final class WatchSentOnItsEventLoop extends WebSocketListener {
        private final WebSocketListener watch;
        private WebSocket onItsLoop;

        WatchSentOnItsEventLoop(WebSocketListener watch) {
            this.watch = watch;
        }

        /** Called first on the socket's event loop (onBeforeAccept, then onOpen): that loop's context is current. */
        private WebSocket onItsLoop(WebSocket socket) {
            if (onItsLoop == null) {
                io.vertx.core.Context loop = Vertx.currentContext();
                onItsLoop = loop == null ? socket : new SentOnItsLoop(socket, loop);
            }
            return onItsLoop;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            watch.onBeforeAccept(onItsLoop(webSocket), response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            watch.onOpen(onItsLoop(webSocket), response);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            watch.onMessage(onItsLoop(webSocket), text);
        }

        @Override
        public void onMessage(WebSocket webSocket, byte[] bytes) {
            watch.onMessage(onItsLoop(webSocket), bytes);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            watch.onClosing(onItsLoop(webSocket), code, reason);
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            watch.onClosed(onItsLoop(webSocket), code, reason);
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable error, Response response) {
            watch.onFailure(onItsLoop(webSocket), error, response);
        }
    }

    /** The mock's socket, written from its own event loop, where its writes do not wait for their completion. */
    private record SentOnItsLoop(WebSocket socket, io.vertx.core.Context loop) implements WebSocket {
        @Override
        public RecordedRequest request() {
            return socket.request();
        }

        @Override
        public boolean send(String text) {
            loop.runOnContext(ignored -> socket.send(text));
            return true;
        }

        @Override
        public boolean send(byte[] bytes) {
            loop.runOnContext(ignored -> socket.send(bytes));
            return true;
        }

        @Override
        public boolean close(int code, String reason) {
            loop.runOnContext(ignored -> socket.close(code, reason));
            return true;
        }
    }
}
