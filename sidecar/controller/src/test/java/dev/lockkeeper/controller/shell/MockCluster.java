package dev.lockkeeper.controller.shell;

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
 * fabric8's mock API server in CRUD mode, as the webhook's tests start it (webhook/src/test/.../MockApiServer.java,
 * whose teardown note applies here too: only the mock's own watch-close timeout is tolerated).
 */
final class MockCluster {
    private MockCluster() {
    }

    static KubernetesMockServer startCrud() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), true);
        server.init();
        return server;
    }

    static void destroy(KubernetesMockServer server) {
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof TimeoutException)) throw e;
            System.err.println("mock API server: shutdown timed out in its own watch-close deadlock; left to finish");
        }
    }
}
