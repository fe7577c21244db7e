package dev.lockkeeper.webhook.support;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeoutException;

/**
 * fabric8's mock API server in CRUD mode with expectations (what {@code @EnableKubernetesMockClient(crud = true)} builds),
 * with a teardown that survives a deadlock inside the mock itself.
 *
 * <p>On watch open the mock sends every existing object from a per-watch executor, and each send waits for the Vert.x
 * event loop to finish the write (up to 30 s). When the client closes that watch, the mock's close handler runs on the
 * same event loop and waits for the executor (up to 1 min). If the close lands while a send is pending, both wait until
 * the send times out, and the mock's own 10 s shutdown timeout fails first. That happens rarely, on a loaded machine,
 * and always after the test's assertions have run. Only that timeout is tolerated here; the mock's Vert.x instance is
 * then left to finish on its own.
 */
public final class MockApiServer {
    private MockApiServer() {}

    public static KubernetesMockServer startCrud() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var server = new KubernetesMockServer(
                new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), true);
        server.init();
        return server;
    }

    public static void destroy(KubernetesMockServer server) {
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof TimeoutException)) throw e;
            System.err.println("mock API server: shutdown timed out in its own watch-close deadlock; left to finish");
        }
    }
}
