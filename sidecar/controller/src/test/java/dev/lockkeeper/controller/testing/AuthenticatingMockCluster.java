package dev.lockkeeper.controller.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link MockCluster}'s CRUD server with the one thing the real API server adds to a new
 * {@code CertificateSigningRequest} that approval depends on: who asked. The real API server writes
 * {@code spec.username}, {@code uid}, {@code groups} and {@code extra} from the requester's authenticated identity
 * on create, whatever the body said (registry/certificates/certificates/strategy.go, {@code PrepareForCreate}); for
 * a pod's service account token that identity carries the pod's name and UID in {@code extra}. The mock stores the
 * body as sent, so this dispatcher does that step: each bearer token a test client uses maps to the identity it
 * stands for ({@link #authenticate}); a CSR created with an unknown token is refused with 401, as the real server
 * refuses the token.
 *
 * <p>The mock also does not know the CSR's {@code approval} subresource (its path parser fails and the request is never
 * answered); a PUT there is taken as the PUT on {@code status} it amounts to, since approval writes only
 * {@code status.conditions} (the real server's approval strategy keeps spec and certificate as they were; the signer
 * here sends them unchanged).
 *
 * <p>A client can also be cut off ({@link #cutOff}): a partition between it and the API server.
 */
public final class AuthenticatingMockCluster {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
    private static final String APPROVAL = "/approval";

    /** What the API server knows about the holder of a token. */
    public record UserInfo(String username, String uid, List<String> groups, Map<String, List<String>> extra) {
        /** A pod's bound service account token, as the API server's service account authenticator reports it. */
        public static UserInfo pod(String namespace, String serviceAccount, String podName, String podUid) {
            return new UserInfo(
                    "system:serviceaccount:" + namespace + ":" + serviceAccount,
                    "sa-uid-" + serviceAccount,
                    List.of("system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"),
                    Map.of(
                            "authentication.kubernetes.io/pod-name", List.of(podName),
                            "authentication.kubernetes.io/pod-uid", List.of(podUid)));
        }
    }

    private final Map<String, UserInfo> tokens = new ConcurrentHashMap<>();
    private final Set<String> cutOff = ConcurrentHashMap.newKeySet();
    private final KubernetesMockServer server;

    public AuthenticatingMockCluster() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var crud = new MockCluster.PatchFailuresAnswered(responses);
        server = new KubernetesMockServer(
                new Context(),
                new MockWebServer(),
                responses,
                new Dispatcher() {
                    @Override
                    public MockResponse dispatch(RecordedRequest request) {
                        if (cutOff.contains(bearer(request))) {
                            return new MockResponse()
                                    .setResponseCode(503)
                                    .setBody("{\"kind\":\"Status\",\"code\":503,\"message\":\"cut off\"}");
                        }
                        if ("POST".equals(request.getMethod())
                                && request.getPath().startsWith(CSR_PATH)) {
                            return admitCsr(request, crud);
                        }
                        if ("PUT".equals(request.getMethod())
                                && request.getPath().startsWith(CSR_PATH + "/")
                                && request.getPath().endsWith(APPROVAL)) {
                            String path = request.getPath();
                            return crud.dispatch(new RecordedRequest(
                                    request.getHttpVersion(),
                                    request.method(),
                                    path.substring(0, path.length() - APPROVAL.length()) + "/status",
                                    request.getHeaders(),
                                    request.getBody()));
                        }
                        return crud.dispatch(request);
                    }

                    @Override
                    public void shutdown() {
                        crud.shutdown();
                    }
                },
                true);
        server.init();
    }

    public KubernetesMockServer server() {
        return server;
    }

    /** Makes {@code token} authenticate as {@code user}. */
    public void authenticate(String token, UserInfo user) {
        tokens.put(token, user);
    }

    /**
     * From now on every request with {@code token} is answered 503, as a client partitioned from the API server sees
     * its requests fail; nothing it sends arrives.
     */
    public void cutOff(String token) {
        cutOff.add(token);
    }

    private static String bearer(RecordedRequest request) {
        String authorization = request.getHeader("Authorization");
        return authorization == null || !authorization.startsWith("Bearer ")
                ? ""
                : authorization.substring("Bearer ".length());
    }

    private MockResponse admitCsr(RecordedRequest request, Dispatcher crud) {
        UserInfo user = tokens.get(bearer(request));
        if (user == null) return new MockResponse().setResponseCode(401).setBody("{\"kind\":\"Status\",\"code\":401}");
        try {
            ObjectNode csr = (ObjectNode) JSON.readTree(request.getUtf8Body());
            ObjectNode spec = csr.has("spec") ? (ObjectNode) csr.get("spec") : csr.putObject("spec");
            spec.put("username", user.username());
            spec.put("uid", user.uid());
            spec.set("groups", JSON.valueToTree(user.groups()));
            spec.set("extra", JSON.valueToTree(user.extra()));
            byte[] body = JSON.writeValueAsBytes(csr);
            var headers = request.getHeaders()
                    .newBuilder()
                    .set("Content-Length", String.valueOf(body.length))
                    .build();
            return crud.dispatch(new RecordedRequest(
                    request.getHttpVersion(), request.method(), request.getPath(), headers, new Buffer(body)));
        } catch (java.io.IOException | ClassCastException e) {
            return new MockResponse().setResponseCode(400).setBody("{\"kind\":\"Status\",\"code\":400}");
        }
    }
}
