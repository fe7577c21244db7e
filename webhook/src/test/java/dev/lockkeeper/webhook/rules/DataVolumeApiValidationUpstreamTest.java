package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code tests/api_validation_test.go} ("Validation tests"), the DataVolume part, one row per upstream
 * {@code Entry}/{@code It}, with upstream's manifests ({@code tests/manifests/*.yaml}, copied under
 * {@code src/test/resources/upstream/cdi-api-validation}). Upstream runs {@code kubectl create} as a cluster admin
 * against a real API server, so a refusal there may come from three places: CDI's mutating webhook (clone
 * authorization), the API server's own validation (object metadata, the CRD's OpenAPI schema: it runs after
 * mutating and before validating webhooks), or CDI's validating webhook. Lockkeeper replaces both webhooks, so:
 * <ul>
 *   <li>{@link Expect#REFUSED}: Lockkeeper refuses, with one of the strings upstream's test accepts. Where those
 *   are the schema's words, the list also holds the message of CDI's webhook code for the same object
 *   ({@code datavolume-validate.go}), which is what a webhook answers; each such row says so;</li>
 *   <li>{@link Expect#API_SERVER_REFUSES}: only the API server refuses it (a missing name); the webhooks admit it,
 *   as CDI's do, and the API server's refusal still reaches the user;</li>
 *   <li>{@link Expect#ALLOWED}: upstream's positive rows.</li>
 * </ul>
 * Not ported, because no webhook takes part: "[test_id:1030] already existing DataVolume", "[test_id:3919]/[3925]
 * already existing destination imageio/VDDK" (the API server's AlreadyExists), "[test_id:4895] report progress"
 * (the importer), "[test_id:3924]" (an update without resourceVersion: a conflict), and "Populator validation"
 * (CDI's VolumeImportSource/VolumeUploadSource webhooks, which Lockkeeper does not replace).
 */
class DataVolumeApiValidationUpstreamTest {
    static final String NAMESPACE = "api-validation-func-test";
    static final String VALID_URL = "http://www.example.com/example.img";
    static final String INVALID_URL_FORMAT = "invalidURL";

    enum Expect {
        REFUSED,
        API_SERVER_REFUSES,
        ALLOWED
    }

    static Stream<Arguments> upstream() {
        return Stream.of(
                // DescribeTable "with Datavolume source validation should"
                row(
                        "[test_id:1321]fail with http source with invalid url format",
                        source("{http: {url: " + INVALID_URL_FORMAT + "}}"),
                        Expect.REFUSED,
                        "spec.source Invalid source URL: invalidURL"),
                row(
                        "[test_id:1322]fail with http source with empty url",
                        source("{http: {url: ''}}"),
                        Expect.REFUSED,
                        "spec.source source URL is empty"),
                row(
                        "[test_id:1323][crit:low]fail with s3 source with invalid url format",
                        source("{s3: {url: " + INVALID_URL_FORMAT + "}}"),
                        Expect.REFUSED,
                        "spec.source Invalid source URL: invalidURL"),
                row(
                        "[test_id:1324][crit:low]fail with s3 source with empty url",
                        source("{s3: {url: ''}}"),
                        Expect.REFUSED,
                        "spec.source source URL is empty"),
                row(
                        "[test_id:1325]fail with empty PVC source namespace",
                        source("{pvc: {namespace: '', name: test-pvc}}"),
                        Expect.REFUSED,
                        "spec.source.PVC source PVC is not valid"),
                row(
                        "[test_id:1326]fail with empty PVC source name",
                        source("{pvc: {namespace: test, name: ''}}"),
                        Expect.REFUSED,
                        "namespaces \"test\" not found",
                        "spec.source.PVC source PVC is not valid"),
                row(
                        "[test_id:3917]fail with source PVC doesn't exist",
                        source("{pvc: {namespace: test, name: test-pvc}}"),
                        Expect.REFUSED,
                        "namespaces \"test\" not found"),
                row(
                        "[test_id:3918]fail with empty Imageio source diskId",
                        source("{imageio: {url: '" + VALID_URL
                                + "', secretRef: secret, certConfigMap: tls-cert, diskId: ''}}"),
                        Expect.REFUSED,
                        "spec.source.Imageio source Imageio is not valid"),
                row(
                        "[test_id:3926]fail with empty VDDK source UUID",
                        source("{vddk: {url: '" + VALID_URL
                                + "', secretRef: secret, uuid: '', backingFile: backingfile, thumbprint: thumbprint}}"),
                        Expect.REFUSED,
                        "spec.source.VDDK source VDDK is not valid"),
                row(
                        "[test_id:3927]fail with empty VDDK source backing file",
                        source("{vddk: {url: '" + VALID_URL
                                + "', secretRef: secret, uuid: uuid, backingFile: '', thumbprint: thumbprint}}"),
                        Expect.REFUSED,
                        "spec.source.VDDK source VDDK is not valid"),
                row(
                        "[test_id:3928]fail with empty VDDK source thumbprint",
                        source("{vddk: {url: '" + VALID_URL
                                + "', secretRef: secret, uuid: uuid, backingFile: backingfile, thumbprint: ''}}"),
                        Expect.REFUSED,
                        "spec.source.VDDK source VDDK is not valid"),
                // DescribeTable "with DataVolume sourceRef validation should"
                row(
                        "[test_id:6780]fail with empty kind",
                        sourceRef("''", "test", "test-pvc"),
                        Expect.REFUSED,
                        "Missing sourceRef kind"),
                row(
                        "[test_id:6781]fail with unsupported kind",
                        sourceRef("no-such-kind", "test", "test-pvc"),
                        Expect.REFUSED,
                        "Unsupported sourceRef kind no-such-kind, currently only DataSource is supported"),
                row(
                        "[test_id:6782]fail with empty sourceRef name",
                        sourceRef("DataSource", "test", "''"),
                        Expect.REFUSED,
                        "Missing sourceRef name"),
                row(
                        "[test_id:6783]fail with sourceRef DataSource doesn't exist",
                        sourceRef("DataSource", "test", "test-pvc"),
                        Expect.REFUSED,
                        "SourceRef DataSource/test/test-pvc not found"),
                // DescribeTable "with Datavolume PVC size should"
                row(
                        "[test_id:1033]fail with zero PVC size",
                        size("'0'"),
                        Expect.REFUSED,
                        "PVC size can't be equal or less than zero"),
                row(
                        "[test_id:1327]fail with negative PVC size",
                        size("-500m"),
                        Expect.REFUSED,
                        "PVC size can't be equal or less than zero"),
                // the schema's words (Go's quantity parser); CDI's webhook never sees such an object
                row(
                        "[test_id:1328]fail with invalid PVC size",
                        size("invalid_size"),
                        Expect.REFUSED,
                        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"),
                // DescribeTable "with manifests Datavolume should"
                row(
                        "[test_id:1760]fail with blank image source and contentType archive",
                        manifest("dvBlankArchive"),
                        Expect.REFUSED,
                        "SourceType cannot be blank and the contentType be archive"),
                row(
                        "[test_id:1761]fail with invalid contentType",
                        manifest("dvInvalidContentType"),
                        Expect.REFUSED,
                        "ContentType not one of: kubevirt, archive",
                        "Unsupported value: \"invalid\": supported values: \"kubevirt\", \"archive\""),
                row(
                        "[test_id:1762]fail with missing both source and sourceRef",
                        manifest("dvMissingSource"),
                        Expect.REFUSED,
                        "Data volume should have either Source or SourceRef",
                        "spec.source in body must be of type object",
                        "spec.sourceRef in body must be of type object"),
                row(
                        "[test_id:1763]fail with multiple sources",
                        manifest("dvMultiSource"),
                        Expect.REFUSED,
                        "Multiple Data volume sources"),
                row(
                        "[test_id:1764]fail with invalid URL for http source",
                        manifest("dvInvalidURL"),
                        Expect.REFUSED,
                        "spec.source Invalid source URL"),
                // schema's words, then CDI's webhook code (line "source PVC is not valid") for a PVC source without
                // name
                row(
                        "[test_id:1765]fail with invalid source PVC",
                        manifest("dvInvalidSourcePVC"),
                        Expect.REFUSED,
                        "spec.source.pvc.name in body is required",
                        "spec.source.pvc.name: Required value",
                        "missing required field \"name\" in io.kubevirt.cdi.v1beta1.DataVolume.spec.source.pvc",
                        "spec.source.PVC source PVC is not valid"),
                row(
                        "[test_id:1766][posneg:positive]succeed with valid source http",
                        manifest("datavolume"),
                        Expect.ALLOWED),
                row(
                        "[test_id:1767]fail with missing PVC spec",
                        manifest("dvMissingPVCSpec"),
                        Expect.REFUSED,
                        "Missing Data volume PVC",
                        "missing required field \"pvc\" in io.kubevirt.cdi.v1beta1.DataVolume.spec",
                        "invalid: spec.pvc: Required value"),
                row(
                        "[test_id:3920]fail with missing PVC accessModes",
                        manifest("dvMissingPVCAccessModes"),
                        Expect.REFUSED,
                        "spec.pvc.accessModes in body is required",
                        "spec.pvc.accessModes: Required value",
                        "Required value: at least 1 access mode is required"),
                row(
                        "[test_id:1768]fail with missing resources spec",
                        manifest("dvMissingResourceSpec"),
                        Expect.REFUSED,
                        "spec.pvc.resources in body is required",
                        "spec.pvc.resources: Required value",
                        "PVC size is missing"),
                row(
                        "[test_id:3921]fail with missing PVC size",
                        manifest("dvMissingPVCSize"),
                        Expect.REFUSED,
                        "PVC size is missing",
                        "spec.pvc.resources.requests in body must be of type object"),
                row(
                        "[test_id:1769]fail with 0 size PVC",
                        manifest("dv0SizePVC"),
                        Expect.REFUSED,
                        "PVC size can't be equal or less than zero"),
                row(
                        "[test_id:1937]fail with invalid content type on blank image",
                        manifest("dvBlankInvalidContentType"),
                        Expect.REFUSED,
                        "ContentType not one of: kubevirt, archive",
                        "Unsupported value: \"test\": supported values: \"kubevirt\", \"archive\""),
                row(
                        "[test_id:1931][posneg:positive]succeed with leading zero in requests storage size",
                        manifest("dvLeadingZero"),
                        Expect.ALLOWED),
                row(
                        "[test_id:1925]fail with invalid request storage size",
                        manifest("dvInvalidStorageSizeQuantity"),
                        Expect.REFUSED,
                        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"),
                row(
                        "[test_id:1923]fail with missing storage size",
                        manifest("dvMissingRequestSpec"),
                        Expect.REFUSED,
                        "PVC size is missing",
                        "spec.pvc.resources in body must be of type object"),
                row(
                        "[test_id:1915]fail with invalid access modes",
                        manifest("dvInvalidAccessModes"),
                        Expect.REFUSED,
                        "supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\""),
                row(
                        "[test_id:3922]fail with multiple access modes",
                        manifest("dvMultipleAccessModes"),
                        Expect.REFUSED,
                        "PVC multiple accessModes"),
                row(
                        "[test_id:1861]fail with missing both source and sourceRef (but having both keys)",
                        manifest("dvMissingSource2"),
                        Expect.REFUSED,
                        "Data volume should have either Source or SourceRef"),
                row(
                        "[test_id:1860]fail with missing http url key",
                        manifest("dvMissingSourceHttp"),
                        Expect.REFUSED,
                        "Missing Data volume source",
                        "spec.source.http in body must be of type object"),
                // schema's words, then CDI's webhook code, which checks the PVC/storage spec first ("Missing Data
                // volume PVC")
                row(
                        "[test_id:1858]fail with missing datavolume spec",
                        manifest("dvMissingCompleteSpec"),
                        Expect.REFUSED,
                        "Missing Data volume source",
                        "missing required field \"spec\" in io.kubevirt.cdi.v1beta1.DataVolume",
                        " invalid: spec: Required value",
                        "Missing Data volume PVC"),
                row("[test_id:1857]fail without datavolume name", manifest("dvNoName"), Expect.API_SERVER_REFUSES),
                row("[test_id:1856]fail without meta data", manifest("dvNoMetaData"), Expect.API_SERVER_REFUSES),
                row(
                        "[test_id:6786]fail with both source and sourceRef",
                        manifest("dvBothSourceAndSourceRef"),
                        Expect.REFUSED,
                        "Data volume should have either Source or SourceRef"));
    }

    static Arguments row(String upstreamCase, ObjectNode dataVolume, Expect expect, String... accepted) {
        return Arguments.of(upstreamCase, dataVolume, expect, List.of(accepted));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("upstream")
    void decidesAsCdisApiValidation(String upstreamCase, ObjectNode dataVolume, Expect expect, List<String> accepted) {
        JsonNode response = review(Operation.CREATE, dataVolume, null);
        String message = response.path("status").path("message").asText();
        switch (expect) {
            case REFUSED -> {
                assertFalse(response.path("allowed").asBoolean(), upstreamCase + ": " + response);
                assertTrue(
                        accepted.stream().anyMatch(message::contains),
                        upstreamCase + ": \"" + message + "\" contains none of " + accepted);
            }
            case API_SERVER_REFUSES, ALLOWED -> {
                assertTrue(response.path("allowed").asBoolean(), upstreamCase + ": " + response);
                assertTrue(response.path("patch").isMissingNode(), "not a clone, so no token: " + response);
            }
        }
    }

    /** "[test_id:1759]should fail creating a DataVolume with already existing destination pvc" (a PVC no DataVolume owns). */
    @Test
    void anExistingDestinationPvcIsRefused() {
        String pvc = "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: test-dv, namespace: " + NAMESPACE
                + "}," + " spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 50Mi}}}}";
        JsonNode response = review(TestCluster.with(namespace(), pvc), Operation.CREATE, manifest("datavolume"), null);
        assertFalse(response.path("allowed").asBoolean(), response.toString());
        assertTrue(
                response.path("status")
                        .path("message")
                        .asText()
                        .contains("Destination PVC " + NAMESPACE + "/test-dv already exists"),
                response.toString());
    }

    /** "[test_id:3923]should fail when updating DataVolume spec": the http URL changed. */
    @Test
    void anUpdatedSpecIsRefused() {
        ObjectNode stored = with(
                manifest("datavolume"),
                dv -> ((ObjectNode) dv.path("spec").path("source").path("http")).put("url", VALID_URL));
        ObjectNode updated = with(
                stored.deepCopy(),
                dv -> ((ObjectNode) dv.path("spec").path("source").path("http")).put("url", "http://foo.bar"));
        JsonNode response = review(Operation.UPDATE, updated, stored);
        assertFalse(response.path("allowed").asBoolean(), response.toString());
        JsonNode unchanged = review(Operation.UPDATE, stored.deepCopy(), stored);
        assertTrue(unchanged.path("allowed").asBoolean(), unchanged.toString());
    }

    static ObjectNode source(String sourceYaml) {
        return with(
                manifest("datavolume"),
                dv -> ((ObjectNode) dv.path("spec")).set("source", TestCluster.yaml(sourceYaml)));
    }

    static ObjectNode sourceRef(String kind, String namespace, String name) {
        return with(manifest("datavolume"), dv -> {
            ObjectNode spec = (ObjectNode) dv.path("spec");
            spec.remove("source");
            spec.set(
                    "sourceRef",
                    TestCluster.yaml("{kind: " + kind + ", namespace: " + namespace + ", name: " + name + "}"));
        });
    }

    static ObjectNode size(String storage) {
        return with(
                manifest("datavolume"),
                dv -> ((ObjectNode) dv.path("spec").path("pvc").path("resources"))
                        .set("requests", TestCluster.yaml("{storage: " + storage + "}")));
    }

    static ObjectNode with(ObjectNode dataVolume, Consumer<ObjectNode> edit) {
        edit.accept(dataVolume);
        return dataVolume;
    }

    /** The test's namespace and kube-system, as on upstream's cluster (its namespace "test" does not exist). */
    static String namespace() {
        return "{apiVersion: v1, kind: Namespace, metadata: {name: " + NAMESPACE + "}}\n---\n"
                + "{apiVersion: v1, kind: Namespace, metadata: {name: kube-system}}";
    }

    /** An upstream manifest, created in the test namespace as {@code kubectl create -n} does. */
    static ObjectNode manifest(String name) {
        try (InputStream in = DataVolumeApiValidationUpstreamTest.class.getResourceAsStream(
                "/upstream/cdi-api-validation/" + name + ".yaml")) {
            ObjectNode dataVolume = (ObjectNode) Json.YAML.readTree(in);
            if (!dataVolume.path("metadata").isObject()) dataVolume.putObject("metadata");
            ((ObjectNode) dataVolume.path("metadata")).put("namespace", NAMESPACE);
            return dataVolume;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode review(Operation operation, ObjectNode dataVolume, ObjectNode stored) {
        return review(TestCluster.with(namespace()), operation, dataVolume, stored);
    }

    /** Both webhooks as the API server calls them, for a cluster admin (who may clone from anywhere). */
    static JsonNode review(TestCluster cluster, Operation operation, ObjectNode dataVolume, ObjectNode stored) {
        cluster.grant("datavolumes/source");
        var service = Rulebook.service(
                cluster,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                RuleObserver.NONE,
                () -> Policy.DEFAULT);
        return service.reviewEndToEnd(Reviews.dataVolume(operation, NAMESPACE, dataVolume, stored, Reviews.ALICE))
                .path("response");
    }
}
