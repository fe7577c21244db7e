package dev.lockkeeper.webhook.http;

import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.admission.HttpReply;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The only Vert.x code: HTTPS listener, routes, body limit, and hand-off of every review to a
 * virtual thread (rules may block on a SubjectAccessReview; the event loop never does).
 * Certificates are re-read periodically and swapped in without dropping open connections.
 */
public final class AdmissionServer {
    private static final Logger LOG = Logger.getLogger(AdmissionServer.class.getName());
    private static final String JSON = "application/json";

    private final Vertx vertx;
    private final ServerSettings settings;
    private final AdmissionService admission;
    private final AdmissionMetrics metrics;
    private final BooleanSupplier clusterSynced;
    private final String cloneTokenPublicKey;
    private final ExecutorService reviews = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicReference<ServingCertificate> installed = new AtomicReference<>();
    private HttpServer server;
    private long reloadTimer = -1;

    public AdmissionServer(Vertx vertx, ServerSettings settings, AdmissionService admission, AdmissionMetrics metrics,
                           BooleanSupplier clusterSynced, String cloneTokenPublicKey) {
        this.vertx = vertx;
        this.settings = settings;
        this.admission = admission;
        this.metrics = metrics;
        this.clusterSynced = clusterSynced;
        this.cloneTokenPublicKey = cloneTokenPublicKey;
    }

    public Future<HttpServer> start() {
        return vertx.executeBlocking(() -> ServingCertificate.read(settings.certificate(), settings.privateKey()))
                .compose(certificate -> {
                    HttpServerOptions options = new HttpServerOptions()
                            .setHost(settings.bindAddress()).setPort(settings.port())
                            .setSsl(true).setKeyCertOptions(keyCert(certificate))
                            .setIdleTimeout(120).setDecompressionSupported(false);
                    if (settings.clientCa() != null) {
                        // REQUEST, not REQUIRED: kubelet probes carry no client certificate; admission routes check for one.
                        options.setClientAuth(ClientAuth.REQUEST).setTrustOptions(new PemTrustOptions().addCertPath(settings.clientCa().toString()));
                    }
                    server = vertx.createHttpServer(options).requestHandler(router());
                    return server.listen().onSuccess(s -> {
                        installed.set(certificate);
                        reloadTimer = vertx.setPeriodic(settings.certificateCheckInterval().toMillis(), id -> reloadIfChanged());
                    });
                });
    }

    public int actualPort() {
        return server.actualPort();
    }

    public boolean ready() {
        return installed.get() != null && clusterSynced.getAsBoolean();
    }

    public Future<Void> stop() {
        if (reloadTimer >= 0) vertx.cancelTimer(reloadTimer);
        reviews.shutdown();
        return server == null ? Future.succeededFuture() : server.close();
    }

    private Router router() {
        Router router = Router.router(vertx);
        BodyHandler body = BodyHandler.create(false).setBodyLimit(ServerSettings.MAX_BODY_BYTES);
        router.post("/mutate").handler(body).handler(ctx -> admit(ctx, AdmissionChain.Stage.MUTATING));
        router.post("/validate").handler(body).handler(ctx -> admit(ctx, AdmissionChain.Stage.VALIDATING));
        router.get("/healthz").handler(ctx -> text(ctx.response(), 200, "ok"));
        router.get("/readyz").handler(ctx -> {
            if (ready()) text(ctx.response(), 200, "ok");
            else send(ctx.response(), HttpReply.error(503, "ServiceUnavailable",
                    installed.get() == null ? "certificates not loaded" : "cluster view not synced"));
        });
        router.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4")
                .end(metrics.scrape()));
        router.get("/clone-token/public-key").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/x-pem-file").end(cloneTokenPublicKey));
        router.errorHandler(404, ctx -> send(ctx.response(), HttpReply.error(404, "NotFound", "no such endpoint: " + ctx.request().path())));
        router.errorHandler(405, ctx -> {
            ctx.response().putHeader("Allow", ctx.request().path().equals("/mutate") || ctx.request().path().equals("/validate") ? "POST" : "GET");
            send(ctx.response(), HttpReply.error(405, "MethodNotAllowed", ctx.request().method() + " is not allowed on " + ctx.request().path()));
        });
        router.errorHandler(413, ctx -> send(ctx.response(), HttpReply.error(413, "RequestEntityTooLarge",
                "request body exceeds " + ServerSettings.MAX_BODY_BYTES + " bytes")));
        router.errorHandler(400, ctx -> send(ctx.response(), HttpReply.error(400, "BadRequest", "unreadable request")));
        Handler<RoutingContext> failed = ctx -> {
            // A client that hangs up mid-body is routine (API server timeouts), not a server fault.
            if (ctx.failure() instanceof HttpClosedException) return;
            LOG.log(Level.SEVERE, "unhandled failure on " + ctx.request().path(), ctx.failure());
            send(ctx.response(), HttpReply.error(500, "InternalError", "internal error"));
        };
        router.errorHandler(500, failed);
        // BodyHandler fails a request whose connection drops with status 200, which no errorHandler matches.
        router.uncaughtErrorHandler(failed);
        return router;
    }

    private void admit(RoutingContext ctx, AdmissionChain.Stage stage) {
        if (settings.clientCa() != null && !hasVerifiedClientCertificate(ctx)) {
            send(ctx.response(), HttpReply.error(401, "Unauthorized", "a client certificate signed by the configured client CA is required"));
            return;
        }
        Buffer buffer = ctx.body().buffer();
        byte[] body = buffer == null ? new byte[0] : buffer.getBytes();
        Context context = vertx.getOrCreateContext();
        CompletableFuture.supplyAsync(() -> admission.handle(stage, body), reviews).whenComplete((reply, failure) ->
                context.runOnContext(v -> {
                    if (failure != null) {
                        LOG.log(Level.SEVERE, "review failed", failure);
                        send(ctx.response(), HttpReply.error(500, "InternalError", "internal error: " + failure));
                    } else {
                        send(ctx.response(), reply);
                    }
                }));
    }

    private static boolean hasVerifiedClientCertificate(RoutingContext ctx) {
        try {
            // The TLS layer already checked any presented chain against the client CA; absence is the case to reject.
            return ctx.request().connection().sslSession() != null
                    && ctx.request().connection().sslSession().getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private void reloadIfChanged() {
        vertx.executeBlocking(() -> ServingCertificate.read(settings.certificate(), settings.privateKey()))
                .onFailure(e -> LOG.warning("serving certificate not reloaded, keeping the current one: " + e.getMessage()))
                .onSuccess(candidate -> {
                    if (candidate.sameAs(installed.get())) return;
                    server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert(candidate)), true)
                            .onSuccess(updated -> {
                                installed.set(candidate);
                                LOG.info("serving certificate reloaded from " + settings.certificate());
                            })
                            .onFailure(e -> LOG.warning("serving certificate rejected by TLS stack: " + e.getMessage()));
                });
    }

    private static PemKeyCertOptions keyCert(ServingCertificate certificate) {
        return new PemKeyCertOptions().setCertValue(Buffer.buffer(certificate.certificatePem()))
                .setKeyValue(Buffer.buffer(certificate.keyPem()));
    }

    private static void text(HttpServerResponse response, int status, String body) {
        if (!response.closed()) response.setStatusCode(status).putHeader("Content-Type", "text/plain").end(body);
    }

    private static void send(HttpServerResponse response, HttpReply reply) {
        if (response.closed() || response.ended()) return;
        response.setStatusCode(reply.status()).putHeader("Content-Type", JSON).end(Buffer.buffer(reply.body()));
    }
}
