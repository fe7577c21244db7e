package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.time.Clock;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code pkg/apiserver/webhooks/datavolume-mutate_test.go} ("Mutating DataVolume Webhook"), one row per
 * upstream {@code It}/{@code Entry}, run through the mutating chain as the API server calls it. {@code authorized}
 * is upstream's {@code isAuthorized} argument (the requester may clone from the source namespace).
 * Where Lockkeeper answers otherwise the row says so and the README's deviation table gives the reason:
 * a same-namespace clone gets no token (CDI's controllers check a token only across namespaces).
 */
class DataVolumeMutateUpstreamTest {
    static final String NAMESPACES = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: default}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: testNamespace}}
            """;
    static final String TOKEN = "cdi.kubevirt.io/storage.clone.token";

    enum Expect {
        ALLOW_NO_PATCH,
        ALLOW_WITH_TOKEN,
        DENY
    }

    static String dataVolume(String annotations, String source) {
        return """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: testDV, namespace: default%s}
                spec:
                  %s
                  pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 500Mi}}}
                """.formatted(annotations.isEmpty() ? "" : ", annotations: {" + annotations + "}", source);
    }

    static String pvcSource(String namespace) {
        return namespace.isEmpty()
                ? "source: {pvc: {name: test}}"
                : "source: {pvc: {namespace: " + namespace + ", name: test}}";
    }

    static final String SOURCE_REF_TEST = "sourceRef: {kind: DataSource, name: test}";
    static final String DATA_SOURCE_TEST = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataSource
            metadata: {name: test, namespace: default}
            spec: {source: {pvc: {namespace: testNamespace, name: testPVC}}}
            """;
    /** "dsRef" points at another DataSource; its resolved PVC is in {@code status.source}, as CDI's DataSource controller writes it. */
    static final String DATA_SOURCE_CHAIN = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataSource
            metadata: {name: dsRef, namespace: testNamespace}
            spec: {source: {dataSource: {namespace: testNamespace, name: ds}}}
            status: {source: {pvc: {namespace: testNamespace, name: pvc}}}
            """;

    static Stream<Arguments> upstream() {
        return Stream.of(
                Arguments.of(
                        "should allow a DataVolume with HTTP source",
                        dataVolume("", "source: {http: {url: 'http://www.example.com'}}"),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should reject a DataVolume with sourceRef to non-existing DataSource",
                        dataVolume("", SOURCE_REF_TEST),
                        "",
                        true,
                        Expect.DENY),
                Arguments.of(
                        "should accept a DataVolume with sourceRef to non-existing DataSource: with static volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.checkStaticVolume: whatever", SOURCE_REF_TEST),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should accept a DataVolume with sourceRef to non-existing DataSource: with prePopulated volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.prePopulated: whatever", SOURCE_REF_TEST),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH),
                // upstream's DataSource names a PVC of the DataVolume's own namespace; here it is in another one, so
                // that the row checks the token (a same-namespace clone gets none: see the class comment)
                Arguments.of(
                        "should allow a DataVolume with sourceRef to existing DataSource",
                        dataVolume("", SOURCE_REF_TEST),
                        DATA_SOURCE_TEST,
                        true,
                        Expect.ALLOW_WITH_TOKEN),
                Arguments.of(
                        "should reject a clone DataVolume",
                        dataVolume("", pvcSource("testNamespace")),
                        "",
                        false,
                        Expect.DENY),
                Arguments.of(
                        "should accept a clone DataVolume: with static volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.checkStaticVolume: whatever", pvcSource("testNamespace")),
                        "",
                        false,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should accept a clone DataVolume: with prePopulated volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.prePopulated: whatever", pvcSource("testNamespace")),
                        "",
                        false,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should reject a clone if the source PVC's namespace doesn't exist",
                        dataVolume("", pvcSource("noNamespace")),
                        "",
                        false,
                        Expect.DENY),
                Arguments.of(
                        "should accept a clone if the source PVC's namespace doesn't exist: with static volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.checkStaticVolume: whatever", pvcSource("noNamespace")),
                        "",
                        false,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should accept a clone if the source PVC's namespace doesn't exist: with prePopulated volume annotation",
                        dataVolume("cdi.kubevirt.io/storage.prePopulated: whatever", pvcSource("noNamespace")),
                        "",
                        false,
                        Expect.ALLOW_NO_PATCH),
                // authorized but the namespace is missing: upstream's AuthorizeUser fails on the namespace lookup
                Arguments.of(
                        "(authorized) a clone from a namespace that does not exist",
                        dataVolume("", pvcSource("noNamespace")),
                        "",
                        true,
                        Expect.DENY),
                Arguments.of(
                        "should succeed with explicit namespace",
                        dataVolume("", pvcSource("testNamespace")),
                        "",
                        true,
                        Expect.ALLOW_WITH_TOKEN),
                Arguments.of(
                        "should succeed with same (default) namespace [deviation: no token]",
                        dataVolume("", pvcSource("default")),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should succeed with empty namespace [deviation: no token]",
                        dataVolume("", pvcSource("")),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH),
                Arguments.of(
                        "should allow update to DataVolume with sourceRef DataSource reference with clone token",
                        dataVolume("", "sourceRef: {kind: DataSource, namespace: testNamespace, name: dsRef}"),
                        DATA_SOURCE_CHAIN,
                        true,
                        Expect.ALLOW_WITH_TOKEN),
                // a token the client wrote is never kept, whoever sent it (issue 12: forged tokens)
                Arguments.of(
                        "(Lockkeeper) a same-namespace clone carrying a client's token loses it",
                        dataVolume(TOKEN + ": forged", pvcSource("default")),
                        "",
                        true,
                        Expect.ALLOW_NO_PATCH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("upstream")
    void decidesAsCdisMutatingWebhook(
            String upstreamCase, String dataVolume, String objects, boolean authorized, Expect expect) {
        TestCluster cluster = objects.isEmpty() ? TestCluster.with(NAMESPACES) : TestCluster.with(NAMESPACES, objects);
        if (authorized) cluster.grant("datavolumes/source");
        CloneAuthorizer authorizer = new CloneAuthorizer("lockkeeper:clone-source");
        Decision decision = new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        Rulebook.mutating(
                                authorizer,
                                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC())),
                        cluster,
                        RuleObserver.NONE,
                        () -> Policy.DEFAULT)
                .decide(Reviews.createDataVolume("default", dataVolume));
        JsonNode patch = decision.patch();
        switch (expect) {
            case DENY -> {
                assertFalse(decision.allowed(), upstreamCase);
                assertNull(patch, upstreamCase);
            }
            case ALLOW_WITH_TOKEN -> {
                assertTrue(decision.allowed(), decision.message());
                assertEquals(1, patch.size(), patch.toString());
                assertEquals("add", patch.get(0).path("op").asText());
                assertEquals("/metadata/annotations", patch.get(0).path("path").asText());
                assertTrue(patch.get(0).path("value").has(TOKEN), patch.toString());
            }
            case ALLOW_NO_PATCH -> {
                assertTrue(decision.allowed(), decision.message());
                boolean tokenLeft = patch != null && patch.toString().contains("forged");
                assertFalse(tokenLeft, "a client's token never survives: " + patch);
                if (!dataVolume.contains("forged")) assertNull(patch, upstreamCase + ": " + patch);
            }
        }
    }

    static Stream<Arguments> updates() {
        return Stream.of(
                // upstream "should allow a DataVolume update with token unchanged"
                Arguments.of(
                        "token unchanged, another annotation added", TOKEN + ": baz", TOKEN + ": baz, foo: bar", null),
                Arguments.of(
                        "(Lockkeeper) the token removed, as CDI's controller does after use",
                        TOKEN + ": baz",
                        "foo: bar",
                        null),
                Arguments.of(
                        "(Lockkeeper, issue 12) a token added by an UPDATE is removed",
                        "foo: bar",
                        "foo: bar, " + TOKEN + ": forged",
                        "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/cdi.kubevirt.io~1storage.clone.token\"}]"),
                Arguments.of(
                        "(Lockkeeper, issue 12) a swapped token is put back",
                        TOKEN + ": baz",
                        TOKEN + ": forged",
                        "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/cdi.kubevirt.io~1storage.clone.token\",\"value\":\"baz\"}]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updates")
    void anUpdateNeverAddsOrChangesTheToken(
            String upstreamCase, String storedAnnotations, String sentAnnotations, String patch) {
        TestCluster cluster = TestCluster.with(NAMESPACES).grant("datavolumes/source");
        var stored = TestCluster.yaml(dataVolume(storedAnnotations, pvcSource("testNamespace")));
        var sent = TestCluster.yaml(dataVolume(sentAnnotations, pvcSource("testNamespace")));
        Decision decision = new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        Rulebook.mutating(
                                new CloneAuthorizer("lockkeeper:clone-source"),
                                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC())),
                        cluster,
                        RuleObserver.NONE,
                        () -> Policy.DEFAULT)
                .decide(Reviews.dataVolume(Operation.UPDATE, "default", sent, stored, Reviews.ALICE));
        assertTrue(decision.allowed(), decision.message());
        assertEquals(patch, decision.patch() == null ? null : decision.patch().toString(), upstreamCase);
        assertTrue(cluster.reviews().isEmpty(), "an UPDATE asks no SubjectAccessReview");
    }
}
