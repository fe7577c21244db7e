package dev.lockkeeper.controller.testing;

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
 * fabric8's mock API server in CRUD mode, started as the webhook's tests start it; the teardown note of
 * webhook/src/test/.../support/MockApiServer.java applies here too: only the mock's own watch-close timeout is
 * tolerated. (The modules share no test code: that would mean publishing a test-jar for a dozen lines.)
 */
public final class MockApiServer {
    private MockApiServer() {
    }

    public static KubernetesMockServer startCrud() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), true);
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
