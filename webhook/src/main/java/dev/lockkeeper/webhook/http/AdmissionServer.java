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
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only Vert.x code: HTTPS listener, routes, body limit, and hand-off of every review to a
 * virtual thread (rules may block on a SubjectAccessReview; the event loop never does).
 * Certificates are re-read periodically and swapped in without dropping open connections.
 */
public final class AdmissionServer {
    private static final Logger LOG = LoggerFactory.getLogger(AdmissionServer.class);
    private static final String JSON = "application/json";
    /**
     * TLS 1.3's suites and TLS 1.2's forward-secret AEAD suites (what the API server's Go client
     * offers first); no CBC, no SHA-1 MACs, no static RSA key exchange.
     */
    static final List<String> AEAD_CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    static {
        // TLS 1.2 renegotiation started by a client is a CPU lever for it and buys us nothing; JSSE reads
        // this once, when the handshake classes load, which is after this class is in use.
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    }

    private final Vertx vertx;
    private final ServerSettings settings;
    private final AdmissionService admission;
    private final AdmissionMetrics metrics;
    private final BooleanSupplier clusterSynced;
    private final String cloneTokenPublicKey;
    private final ExecutorService reviews = Executors.newVirtualThreadPerTaskExecutor();
    private final CertificateRotation certificates;
    private final IntakeBudget budget;
    private HttpServer server;
    private long reloadTimer = -1;
    private boolean reloading;
    private volatile boolean draining;

    public AdmissionServer(
            Vertx vertx,
            ServerSettings settings,
            AdmissionService admission,
            AdmissionMetrics metrics,
            BooleanSupplier clusterSynced,
            String cloneTokenPublicKey) {
        this.vertx = vertx;
        this.settings = settings;
        this.admission = admission;
        this.metrics = metrics;
        this.clusterSynced = clusterSynced;
        this.cloneTokenPublicKey = cloneTokenPublicKey;
        this.budget = new IntakeBudget(settings.limits());
        this.certificates = new CertificateRotation(
                settings.certificate(),
                settings.privateKey(),
                settings.certificateExpiryMargin(),
                Clock.systemUTC(),
                metrics);
    }

    public Future<HttpServer> start() {
        return vertx.executeBlocking(certificates::initial).compose(certificate -> {
            HttpServerOptions options = new HttpServerOptions()
                    .setHost(settings.bindAddress())
                    .setPort(settings.port())
                    .setSsl(true)
                    .setKeyCertOptions(keyCert(certificate))
                    .setIdleTimeout(120)
                    .setDecompressionSupported(false)
                    // No WebSockets here. With compression on, Netty's WebSocket extension handler sits in the
                    // pipeline and fails a connection with more than 128 pipelined requests queued; without it,
                    // Vert.x reads one request ahead of the response in progress and pauses the socket.
                    .setPerMessageWebSocketCompressionSupported(false)
                    .setPerFrameWebSocketCompressionSupported(false)
                    .setEnabledSecureTransportProtocols(Set.of("TLSv1.3", "TLSv1.2"));
            AEAD_CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
            if (settings.clientCa() != null) {
                // REQUEST, not REQUIRED: kubelet probes carry no client certificate; admission routes check for one.
                options.setClientAuth(ClientAuth.REQUEST)
                        .setTrustOptions(new PemTrustOptions()
                                .addCertPath(settings.clientCa().toString()));
            }
            server = vertx.createHttpServer(options)
                    .requestHandler(router())
                    .connectionHandler(connection -> connection.exceptionHandler(failure -> {
                        // A connection-level failure (TLS alert, reset, protocol error) ends that connection only.
                        metrics.connectionFailed();
                        LOG.debug("connection from {} failed: {}", connection.remoteAddress(), failure.toString());
                    }));
            return server.listen().onSuccess(s -> {
                certificates.installed(certificate);
                reloadTimer =
                        vertx.setPeriodic(settings.certificateCheckInterval().toMillis(), id -> reloadIfChanged());
            });
        });
    }

    public int actualPort() {
        return server.actualPort();
    }

    public boolean ready() {
        return !draining && certificates.unready() == null && clusterSynced.getAsBoolean();
    }

    /**
     * Graceful stop: {@code /readyz} answers 503 on connections still open, the listener stops
     * accepting, requests in progress (a body still arriving, a review being decided) are answered, and
     * connections are closed once idle or after {@code grace}, whichever comes first.
     */
    public Future<Void> shutdown(Duration grace) {
        draining = true;
        if (reloadTimer >= 0) vertx.cancelTimer(reloadTimer);
        Future<Void> drained = server == null ? Future.succeededFuture() : server.shutdown(grace);
        return drained.eventually(() -> {
            reviews.shutdown();
            return Future.succeededFuture();
        });
    }

    /** Abrupt stop: open connections are closed at once. */
    public Future<Void> stop() {
        if (reloadTimer >= 0) vertx.cancelTimer(reloadTimer);
        reviews.shutdown();
        return server == null ? Future.succeededFuture() : server.close();
    }

    private Router router() {
        Router router = Router.router(vertx);
        router.post("/mutate").handler(ctx -> admit(ctx, AdmissionChain.Stage.MUTATING));
        router.post("/validate").handler(ctx -> admit(ctx, AdmissionChain.Stage.VALIDATING));
        router.get("/healthz").handler(ctx -> text(ctx.response(), 200, "ok"));
        router.get("/readyz").handler(ctx -> {
            String unready = draining ? "shutting down" : certificates.unready();
            if (unready == null && clusterSynced.getAsBoolean()) {
                String refusal = certificates.refusal();
                text(ctx.response(), 200, refusal == null ? "ok" : "ok; " + refusal);
            } else {
                send(
                        ctx.response(),
                        HttpReply.error(
                                503, "ServiceUnavailable", unready != null ? unready : "cluster view not synced"));
            }
        });
        router.get("/metrics")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "text/plain; version=0.0.4")
                        .end(metrics.scrape()));
        router.get("/clone-token/public-key")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "application/x-pem-file")
                        .end(cloneTokenPublicKey));
        router.errorHandler(
                404,
                ctx -> send(
                        ctx.response(),
                        HttpReply.error(
                                404,
                                "NotFound",
                                "no such endpoint: " + ctx.request().path())));
        router.errorHandler(405, ctx -> {
            ctx.response()
                    .putHeader(
                            "Allow",
                            ctx.request().path().equals("/mutate")
                                            || ctx.request().path().equals("/validate")
                                    ? "POST"
                                    : "GET");
            send(
                    ctx.response(),
                    HttpReply.error(
                            405,
                            "MethodNotAllowed",
                            ctx.request().method() + " is not allowed on "
                                    + ctx.request().path()));
        });
        router.errorHandler(400, ctx -> send(ctx.response(), HttpReply.error(400, "BadRequest", "unreadable request")));
        Handler<RoutingContext> failed = ctx -> {
            metrics.unhandledFailure();
            LOG.error("unhandled failure on {}", ctx.request().path(), ctx.failure());
            send(ctx.response(), HttpReply.error(500, "InternalError", "internal error"));
        };
        router.errorHandler(500, failed);
        router.uncaughtErrorHandler(failed);
        return router;
    }

    /**
     * Reads the body under the intake limits, then decides on a virtual thread. Every refusal here
     * happens before the body is buffered, answers at once, and closes the connection (the rest of
     * an unread body cannot be told apart from the next pipelined request).
     */
    private void admit(RoutingContext ctx, AdmissionChain.Stage stage) {
        HttpServerRequest request = ctx.request();
        HttpReply unauthorized = settings.clientCa() == null ? null : clientCertificateRefusal(request);
        if (unauthorized != null) {
            metrics.requestRefused("client-certificate");
            refuse(request, unauthorized);
            return;
        }
        IntakeLimits limits = settings.limits();
        long declared = declaredLength(request);
        if (declared > limits.maxBodyBytes()) {
            metrics.requestRefused("too-large");
            refuse(request, tooLarge(limits));
            return;
        }
        IntakeBudget.Claim claim = budget.claim(Math.max(declared, 0));
        if (claim == null) {
            metrics.requestRefused("busy");
            request.response().putHeader("Retry-After", "1");
            refuse(
                    request,
                    HttpReply.error(
                            429,
                            "TooManyRequests",
                            "the webhook is at its limit of " + limits.maxInFlight() + " reviews or "
                                    + limits.maxBufferedBytes() + " buffered bytes; retry shortly"));
            return;
        }
        new BodyReader(request, stage, claim, declared).start();
    }

    /** One request's body on its way in; every callback runs on the connection's event loop. */
    private final class BodyReader {
        private final HttpServerRequest request;
        private final AdmissionChain.Stage stage;
        private final IntakeBudget.Claim claim;
        private final Buffer body;
        private long deadlineTimer = -1;
        private boolean finished;

        BodyReader(HttpServerRequest request, AdmissionChain.Stage stage, IntakeBudget.Claim claim, long declared) {
            this.request = request;
            this.stage = stage;
            this.claim = claim;
            this.body = Buffer.buffer(
                    (int) Math.min(Math.max(declared, 256), settings.limits().maxBodyBytes()));
        }

        void start() {
            IntakeLimits limits = settings.limits();
            deadlineTimer = vertx.setTimer(limits.bodyDeadline().toMillis(), id -> {
                deadlineTimer = -1;
                stopReading(
                        "slow-body",
                        HttpReply.error(
                                408,
                                "RequestTimeout",
                                "request body not received within "
                                        + limits.bodyDeadline().toMillis() + " ms"));
            });
            request.handler(chunk -> {
                if (finished) return; // refused: the rest is dropped
                long size = (long) body.length() + chunk.length();
                if (size > limits.maxBodyBytes()) {
                    stopReading("too-large", tooLarge(limits));
                } else if (!claim.growTo(size)) {
                    request.response().putHeader("Retry-After", "1");
                    stopReading(
                            "busy",
                            HttpReply.error(
                                    429,
                                    "TooManyRequests",
                                    "the webhook holds " + limits.maxBufferedBytes()
                                            + " bytes of request bodies already; retry shortly"));
                } else {
                    body.appendBuffer(chunk);
                }
            });
            request.exceptionHandler(failure -> {
                if (finished) return;
                finish();
                claim.release();
                metrics.requestAborted();
                // A client that hangs up mid-body is routine (API server timeouts, restarts), not a server fault.
                LOG.debug("client went away before its body was read on {}: {}", request.path(), failure.toString());
            });
            request.endHandler(v -> {
                if (finished) return;
                finish();
                decide(request, stage, body.getBytes(), claim);
            });
            request.resume();
        }

        private void stopReading(String reason, HttpReply reply) {
            if (finished) return;
            finish();
            claim.release();
            metrics.requestRefused(reason);
            refuse(request, reply);
        }

        private void finish() {
            finished = true;
            if (deadlineTimer >= 0) vertx.cancelTimer(deadlineTimer);
        }
    }

    private void decide(HttpServerRequest request, AdmissionChain.Stage stage, byte[] body, IntakeBudget.Claim claim) {
        Context context = vertx.getOrCreateContext();
        String timeout = request.getParam("timeout"); // the API server's, e.g. "3s": read here, on the event loop
        CompletableFuture.supplyAsync(() -> admission.handle(stage, body, timeout), reviews)
                .whenComplete((reply, failure) -> context.runOnContext(v -> {
                    claim.release();
                    if (failure != null) {
                        metrics.unhandledFailure();
                        LOG.error("review failed", failure);
                        send(request.response(), HttpReply.error(500, "InternalError", "internal error"));
                    } else {
                        send(request.response(), reply);
                    }
                }));
    }

    private static long declaredLength(HttpServerRequest request) {
        String header = request.getHeader("Content-Length");
        if (header == null) return -1;
        try {
            return Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static HttpReply tooLarge(IntakeLimits limits) {
        return HttpReply.error(
                413, "RequestEntityTooLarge", "request body exceeds " + limits.maxBodyBytes() + " bytes");
    }

    /**
     * Answers at once without buffering the rest of the body: it is read and dropped, so the client
     * sees the answer (closing with unread bytes would reset the connection before it does) and a
     * keep-alive connection stays usable. A client still sending when the body deadline passes is cut off: the
     * same time any body gets, since a client on a slow link (or a loaded API server) may need more than a second
     * to send the rest of a 10 MiB body, and dropping bytes costs nothing but the connection.
     */
    private void refuse(HttpServerRequest request, HttpReply reply) {
        if (!request.isEnded()) {
            request.handler(ignored -> {});
            request.resume();
        }
        send(request.response(), reply);
        vertx.setTimer(settings.limits().bodyDeadline().toMillis(), id -> {
            if (!request.isEnded()) request.connection().close();
        });
    }

    /**
     * The TLS layer already checked any presented chain against the client CA: no certificate is a
     * 401; with pinned common names, a certificate from that CA for any other subject is a 403.
     */
    private HttpReply clientCertificateRefusal(HttpServerRequest request) {
        Certificate[] chain;
        try {
            SSLSession session = request.connection().sslSession();
            chain = session == null ? new java.security.cert.Certificate[0] : session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            chain = new java.security.cert.Certificate[0];
        }
        if (chain.length == 0) {
            return HttpReply.error(
                    401, "Unauthorized", "a client certificate signed by the configured client CA is required");
        }
        Set<String> pinned = settings.clientCommonNames();
        if (pinned.isEmpty()) return null;
        String presented = chain[0] instanceof X509Certificate leaf ? commonName(leaf) : null;
        if (presented != null && pinned.contains(presented)) return null;
        return HttpReply.error(
                403,
                "Forbidden",
                "client certificate CN=" + presented + " is not one this webhook accepts ("
                        + String.join(", ", pinned.stream().sorted().toList()) + ")");
    }

    private static String commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) return rdn.getValue().toString();
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    /** One look at a time (timer callbacks run on one event loop): a look never overlaps an update still in progress. */
    private void reloadIfChanged() {
        if (reloading) return;
        reloading = true;
        vertx.executeBlocking(certificates::candidate)
                .compose(candidate -> candidate == null
                        ? Future.<Void>succeededFuture()
                        : server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert(candidate)), true)
                                .<Void>map(updated -> {
                                    certificates.installed(candidate);
                                    return null;
                                })
                                .recover(e -> {
                                    certificates.rejectedByTls(e.getMessage());
                                    return Future.succeededFuture();
                                }))
                .onComplete(done -> reloading = false);
    }

    private static PemKeyCertOptions keyCert(ServingCertificate certificate) {
        return new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(certificate.certificatePem()))
                .setKeyValue(Buffer.buffer(certificate.keyPem()));
    }

    private static void text(HttpServerResponse response, int status, String body) {
        if (!response.closed())
            response.setStatusCode(status)
                    .putHeader("Content-Type", "text/plain")
                    .end(body);
    }

    private static void send(HttpServerResponse response, HttpReply reply) {
        if (response.closed() || response.ended()) return;
        response.setStatusCode(reply.status()).putHeader("Content-Type", JSON).end(Buffer.buffer(reply.body()));
    }
}
