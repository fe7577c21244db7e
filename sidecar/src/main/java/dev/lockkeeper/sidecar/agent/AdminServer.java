package dev.lockkeeper.sidecar.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /healthz}, {@code /readyz} and {@code /metrics} on the admin port, plain HTTP for kubelet's probes and
 * Prometheus. The JDK's own server: three tiny endpoints do not need a framework in a process that must stay small.
 */
final class AdminServer implements AutoCloseable {
    private final HttpServer server;

    /** @param notReady why the agent cannot take work yet, or empty when it can */
    AdminServer(InetSocketAddress address, Supplier<Optional<String>> notReady, AgentMetrics metrics)
            throws IOException {
        server = HttpServer.create(address, 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/healthz", exchange -> reply(exchange, 200, "text/plain", "ok\n"));
        server.createContext("/readyz", exchange -> {
            Optional<String> reason = notReady.get();
            reply(
                    exchange,
                    reason.isEmpty() ? 200 : 503,
                    "text/plain",
                    reason.map(r -> r + "\n").orElse("ok\n"));
        });
        server.createContext(
                "/metrics",
                exchange -> reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")
                    && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
