package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AdmissionReviewsTest {
    static final String VALID = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",
             "kind":{"group":"cdi.kubevirt.io","version":"v1beta1","kind":"DataVolume"},
             "resource":{"group":"cdi.kubevirt.io","version":"v1beta1","resource":"datavolumes"},
             "operation":"CREATE","namespace":"team-a","name":"disk",
             "userInfo":{"username":"alice","uid":"42","groups":["g1"],"extra":{"scopes":["a","b"]}},
             "object":{"metadata":{"name":"disk"}},"dryRun":true}}""";

    @Test
    void parsesEveryFieldRulesUse() throws Exception {
        AdmissionRequest request = AdmissionReviews.parse(VALID.getBytes(StandardCharsets.UTF_8));
        assertEquals("u-1", request.uid());
        assertEquals(new GroupVersionKind("cdi.kubevirt.io", "v1beta1", "DataVolume"), request.kind());
        assertEquals(new GroupVersionResource("cdi.kubevirt.io", "v1beta1", "datavolumes"), request.resource());
        assertEquals(Operation.CREATE, request.operation());
        assertEquals(
                new UserInfo("alice", "42", List.of("g1"), java.util.Map.of("scopes", List.of("a", "b"))),
                request.userInfo());
        assertTrue(request.dryRun());
        assertEquals("disk", request.objectName());
    }

    static Stream<Arguments> badReviews() {
        return Stream.of(
                Arguments.of("malformed JSON", "{\"apiVersion\":", "malformed JSON"),
                Arguments.of("not an object", "[1,2]", "body must be a JSON object"),
                Arguments.of("empty body", "", "body must be a JSON object"),
                Arguments.of(
                        "wrong apiVersion",
                        VALID.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"),
                        "expected apiVersion admission.k8s.io/v1 kind AdmissionReview, got apiVersion \"admission.k8s.io/v1beta1\""),
                Arguments.of(
                        "wrong kind",
                        VALID.replace("\"AdmissionReview\"", "\"Pod\""),
                        "got apiVersion \"admission.k8s.io/v1\" kind \"Pod\""),
                Arguments.of(
                        "missing request",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
                        "AdmissionReview.request is missing"),
                Arguments.of(
                        "request not an object",
                        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":7}",
                        "request must be an object"),
                Arguments.of("missing uid", VALID.replace("\"uid\":\"u-1\",", ""), "request.uid is missing"),
                Arguments.of(
                        "empty uid",
                        VALID.replace("\"uid\":\"u-1\"", "\"uid\":\"\""),
                        "request.uid must be a non-empty string"),
                Arguments.of(
                        "numeric uid",
                        VALID.replace("\"uid\":\"u-1\"", "\"uid\":5"),
                        "request.uid must be a non-empty string"),
                Arguments.of(
                        "kind not an object",
                        VALID.replace(
                                "\"kind\":{\"group\":\"cdi.kubevirt.io\",\"version\":\"v1beta1\",\"kind\":\"DataVolume\"}",
                                "\"kind\":\"DataVolume\""),
                        "request.kind must be an object"),
                Arguments.of(
                        "missing resource",
                        VALID.replace(
                                "\"resource\":{\"group\":\"cdi.kubevirt.io\",\"version\":\"v1beta1\",\"resource\":\"datavolumes\"},",
                                ""),
                        "request.resource is missing"),
                Arguments.of(
                        "resource without name",
                        VALID.replace(",\"resource\":\"datavolumes\"", ""),
                        "request.resource.resource is missing"),
                Arguments.of(
                        "unknown operation",
                        VALID.replace("\"CREATE\"", "\"PATCH\""),
                        "request.operation must be one of"),
                Arguments.of(
                        "create without object",
                        VALID.replace("\"object\":{\"metadata\":{\"name\":\"disk\"}},", ""),
                        "request.object is required for CREATE"),
                Arguments.of(
                        "object not an object",
                        VALID.replace("\"object\":{\"metadata\":{\"name\":\"disk\"}}", "\"object\":\"disk\""),
                        "request.object must be an object"),
                Arguments.of(
                        "update without oldObject",
                        VALID.replace("\"CREATE\"", "\"UPDATE\""),
                        "request.oldObject is required for UPDATE"),
                Arguments.of(
                        "groups not strings",
                        VALID.replace("[\"g1\"]", "[1]"),
                        "request.userInfo.groups must be an array of strings"),
                Arguments.of(
                        "userInfo not an object",
                        VALID.replace("\"userInfo\":{", "\"userInfo\":[],\"x\":{"),
                        "request.userInfo must be an object"),
                Arguments.of(
                        "dryRun not boolean",
                        VALID.replace("\"dryRun\":true", "\"dryRun\":\"yes\""),
                        "request.dryRun must be a boolean"),
                Arguments.of(
                        "hostile nesting", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "malformed JSON"),
                Arguments.of(
                        "a million tiny tokens",
                        "{\"a\":[" + "[],".repeat(500_000) + "[]]}",
                        "Token count (1000001) exceeds the maximum allowed"));
    }

    @Test
    void aReviewJustUnderTheTokenCapIsRead() throws Exception {
        // 2 tokens per element, ~990,000 in all: more than the largest real UPDATE has
        String body = VALID.replace(
                "\"object\":{\"metadata\":{\"name\":\"disk\"}}",
                "\"object\":{\"metadata\":{\"name\":\"disk\"},\"x\":[" + "[],".repeat(494_999) + "[]]}");
        AdmissionRequest request = AdmissionReviews.parse(body.getBytes(StandardCharsets.UTF_8));
        assertEquals(495_000, request.object().path("x").size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badReviews")
    void rejectsBadInputWithAClearMessage(String name, String body, String message) {
        var e = assertThrows(
                BadAdmissionReview.class, () -> AdmissionReviews.parse(body.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void rendersAPatchAsBase64JsonPatchOnlyForMutatingResponses() throws Exception {
        ArrayNode patch = Json.array();
        patch.addObject()
                .put("op", "add")
                .put("path", "/metadata/annotations/a~1b")
                .put("value", "c");
        Decision decision = Decision.allowed(List.of(), patch);
        JsonNode mutating = AdmissionReviews.render("u-1", decision, true).get("response");
        assertEquals("u-1", mutating.get("uid").asText());
        assertTrue(mutating.get("allowed").asBoolean());
        assertEquals("JSONPatch", mutating.get("patchType").asText());
        assertEquals(
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"c\"}]",
                new String(Base64.getDecoder().decode(mutating.get("patch").asText()), StandardCharsets.UTF_8));
        JsonNode validating = AdmissionReviews.render("u-1", decision, false).get("response");
        assertFalse(validating.has("patch"));
        assertFalse(validating.has("patchType"));
    }

    @Test
    void rendersDenialsWithCodeMessageReasonAndCauses() {
        Decision decision =
                Decision.denied(Verdict.forbidden("no", Cause.forbidden("spec.x", "no")), List.of("careful"), "rule");
        ObjectNode review = AdmissionReviews.render("u-2", decision, true);
        assertEquals(
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":\"u-2\","
                        + "\"allowed\":false,\"status\":{\"code\":403,\"message\":\"no\",\"reason\":\"Forbidden\",\"details\":{\"causes\":"
                        + "[{\"type\":\"FieldValueForbidden\",\"message\":\"no\",\"field\":\"spec.x\"}]}},\"warnings\":[\"careful\"]}}",
                review.toString());
    }

    @Test
    void warningsAreSingleLinesOfAtMost120CharactersWithoutDuplicates() {
        List<String> normalized =
                Warnings.normalize(List.of("line one\nline two", "x".repeat(300), "dup", "dup", "  \n "));
        assertEquals(List.of("line one line two", "x".repeat(117) + "...", "dup"), normalized);
        normalized.forEach(w -> assertTrue(w.length() <= 120));
    }

    /** Issue 12: 10,000 refused templates made a 9.7 MB denial; the response stays small and says what it left out. */
    @Test
    void aHugeDenialIsCutToAFewKilobytesAndSaysHowMuchWasLeftOut() {
        List<Cause> causes = new java.util.ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            causes.add(Cause.forbidden("spec.dataVolumeTemplates[" + i + "]", "may not clone " + "x".repeat(900)));
        }
        String message = String.join("; ", causes.stream().map(Cause::message).toList());
        Decision denied = new Decision(false, 403, "Forbidden", message, causes, List.of(), null, "rule");

        ObjectNode review = AdmissionReviews.render("u-1", denied, false);

        assertTrue(
                review.toString().length() < 64 * 1024,
                "response of " + review.toString().length() + " characters");
        JsonNode status = review.path("response").path("status");
        assertTrue(
                status.path("message").asText().endsWith(" more characters)"),
                status.path("message").asText());
        JsonNode rendered = status.path("details").path("causes");
        assertEquals(ResponseBounds.MAX_CAUSES + 1, rendered.size());
        assertEquals(
                "spec.dataVolumeTemplates[0]", rendered.get(0).path("field").asText());
        assertEquals(
                "and 9980 more",
                rendered.get(ResponseBounds.MAX_CAUSES).path("message").asText());
        assertFalse(review.path("response").path("allowed").asBoolean());
    }

    @Test
    void warningsLoseBidiAndZeroWidthCharactersAndAreCountedPastTwenty() {
        assertEquals(List.of("evil txt.exe", "a b"), Warnings.normalize(List.of("evil\u202Etxt.exe", "a\u200Bb")));
        List<String> many = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) many.add("warning " + i);
        List<String> normalized = Warnings.normalize(many);
        assertEquals(Warnings.MAX_COUNT + 1, normalized.size());
        assertEquals("warning 19", normalized.get(Warnings.MAX_COUNT - 1));
        assertEquals("and 80 more warnings", normalized.getLast());
    }
}
