package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdmissionChainTest {
    static final Match EVERYTHING = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);
    final TestCluster cluster = TestCluster.with();
    final AdmissionRequest request = Reviews.createDataVolume("team-a", "{metadata: {name: disk}, spec: {}}");

    record Labeller(String key, List<String> seen) implements AdmissionRule {
        @Override
        public String name() {
            return "label-" + key;
        }

        @Override
        public Match match() {
            return EVERYTHING;
        }

        @Override
        public boolean handles(AdmissionRequest request) {
            return true;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            AdmissionRequest request = review.request();
            seen.add(request.object().path("metadata").path("labels").toString());
            ObjectEdit edit = ObjectEdit.of(request.object());
            edit.put("yes", "metadata", "labels", key);
            return edit.verdict(List.of("labelled " + key));
        }
    }

    record Fixed(String name, Verdict verdict) implements AdmissionRule {
        @Override
        public Match match() {
            return EVERYTHING;
        }

        @Override
        public boolean handles(AdmissionRequest request) {
            return true;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            return verdict;
        }
    }

    record Throwing() implements AdmissionRule {
        @Override
        public String name() {
            return "broken";
        }

        @Override
        public Match match() {
            return EVERYTHING;
        }

        @Override
        public boolean handles(AdmissionRequest request) {
            return true;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            throw new IllegalStateException("boom");
        }
    }

    @Test
    void mutatingChainThreadsTheObjectAndReturnsOnePatchOfEachRulesOperations() {
        List<String> seen = new ArrayList<>();
        Decision decision = chain(AdmissionChain.Stage.MUTATING, new Labeller("a", seen), new Labeller("b", seen))
                .decide(request);
        assertEquals(List.of("", "{\"a\":\"yes\"}"), seen, "the second rule sees the first rule's change");
        assertEquals(
                "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"yes\"}},"
                        + "{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"yes\"}]",
                decision.patch().toString());
        assertEquals(List.of("labelled a", "labelled b"), decision.warnings());
    }

    @Test
    void validatingChainNeverPatches() {
        Decision decision = chain(AdmissionChain.Stage.VALIDATING, new Labeller("a", new ArrayList<>()))
                .decide(request);
        assertTrue(decision.allowed());
        assertNull(decision.patch());
    }

    @Test
    void firstDenialDecidesAndKeepsEarlierWarnings() {
        Decision decision = chain(
                        AdmissionChain.Stage.VALIDATING,
                        new Fixed("warns", Verdict.allow(List.of("heads up"))),
                        new Fixed("denies", Verdict.invalid("bad", Cause.invalid("spec", "bad"))),
                        new Throwing())
                .decide(request);
        assertFalse(decision.allowed());
        assertEquals(422, decision.code());
        assertEquals("denies", decision.decidedBy());
        assertEquals(List.of("heads up"), decision.warnings());
    }

    @Test
    void aFailingRuleDeniesWith500InsteadOfCrashing() {
        Decision decision =
                chain(AdmissionChain.Stage.VALIDATING, new Throwing()).decide(request);
        assertFalse(decision.allowed());
        assertEquals(500, decision.code());
        assertTrue(decision.message().contains("rule broken failed"), decision.message());
        assertEquals(
                "u-1",
                AdmissionReviews.render("u-1", decision, false)
                        .path("response")
                        .path("uid")
                        .asText());
    }

    record BadMatcher() implements AdmissionRule {
        @Override
        public String name() {
            return "bad-matcher";
        }

        @Override
        public Match match() {
            return EVERYTHING;
        }

        @Override
        public boolean handles(AdmissionRequest request) {
            throw new StackOverflowError("deep");
        }

        @Override
        public Verdict admit(ReviewContext review) {
            return Verdict.allow();
        }
    }

    @Test
    void failuresOutsideARuleStillAnswerWithTheUidAndADenial() throws Exception {
        var service = new AdmissionService(
                chain(AdmissionChain.Stage.MUTATING, new BadMatcher()), chain(AdmissionChain.Stage.VALIDATING));
        HttpReply reply = service.handle(
                AdmissionChain.Stage.MUTATING,
                dev.lockkeeper.webhook.support.Reviews.document(request)
                        .toString()
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                null);
        assertEquals(200, reply.status());
        var response = Json.MAPPER.readTree(reply.body()).path("response");
        assertEquals("uid-CREATE", response.path("uid").asText());
        assertFalse(response.path("allowed").asBoolean());
        assertEquals(500, response.path("status").path("code").asInt());
    }

    @Test
    void observerSeesEveryRuleAndTheReview() {
        List<String> events = new ArrayList<>();
        RuleObserver observer = new RuleObserver() {
            @Override
            public void ruleEvaluated(String endpoint, String rule, String outcome, long nanos) {
                events.add(endpoint + " " + rule + " " + outcome);
            }

            @Override
            public void reviewDecided(String endpoint, String outcome, long nanos) {
                events.add(endpoint + " " + outcome);
            }
        };
        new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        List.of(new Labeller("a", new ArrayList<>()), new Fixed("ok", Verdict.allow())),
                        cluster,
                        observer,
                        () -> Policy.DEFAULT)
                .decide(request);
        assertEquals(List.of("mutate label-a patched", "mutate ok allowed", "mutate patched"), events);
    }

    private AdmissionChain chain(AdmissionChain.Stage stage, AdmissionRule... rules) {
        return new AdmissionChain(stage, List.of(rules), cluster, RuleObserver.NONE, () -> Policy.DEFAULT);
    }
}
