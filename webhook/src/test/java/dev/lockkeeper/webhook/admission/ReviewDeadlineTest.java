package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A review past its deadline is answered with the failure policy of the rule still running, and that rule's thread is
 * interrupted so it sends nothing more. The SubjectAccessReview here blocks until interrupted, so without the deadline
 * the review would never be answered and the rule's thread would never end.
 */
@Timeout(60) // a removed deadline guard hangs the review: fail instead
class ReviewDeadlineTest {
    static final Match DATAVOLUMES = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);
    static final AccessReview SOURCE_READ = new AccessReview(
            "alice",
            List.of(),
            Map.of(),
            "golden-images",
            "create",
            "cdi.kubevirt.io",
            "datavolumes",
            "source",
            "fedora");
    static final Duration ONE_SECOND_TIMEOUT = Duration.ofSeconds(1);

    final AtomicInteger reviewsStarted = new AtomicInteger();
    final AtomicReference<Thread> reviewThread = new AtomicReference<>();
    final AtomicBoolean reviewInterrupted = new AtomicBoolean();
    final TestCluster hangingAuthorization = new TestCluster.Reviewing(TestCluster.with(), review -> {
        reviewsStarted.incrementAndGet();
        reviewThread.set(Thread.currentThread());
        try {
            Thread.sleep(Duration.ofHours(1));
            return new AccessDecision.Allowed("too late");
        } catch (InterruptedException e) {
            reviewInterrupted.set(true);
            Thread.currentThread().interrupt();
            return new AccessDecision.Unavailable("interrupted"); // what CachingAccessReviewer answers when interrupted
        }
    });
    final AdmissionRequest request = Reviews.createDataVolume("team-a", "{metadata: {name: disk}, spec: {}}");

    /** Checks two sources, one SubjectAccessReview each; would deny if it ever got an answer. */
    record TwoAuthorizations(FailurePolicy failurePolicy) implements AdmissionRule {
        @Override
        public String name() {
            return "two-authorizations";
        }

        @Override
        public Match match() {
            return DATAVOLUMES;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            review.cluster().review(SOURCE_READ);
            review.cluster().review(SOURCE_READ);
            return Verdict.forbidden("both sources were checked");
        }
    }

    Decision decide(AdmissionRule rule, Policy policy, List<String> events) {
        RuleObserver observer = new RuleObserver() {
            @Override
            public void ruleEvaluated(String endpoint, String name, String outcome, long nanos) {
                events.add(name + " " + outcome);
            }

            @Override
            public void reviewDecided(String endpoint, String outcome, long nanos) {
                events.add(outcome);
            }
        };
        return new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING, List.of(rule), hangingAuthorization, observer, () -> policy)
                .decide(request, ONE_SECOND_TIMEOUT);
    }

    void assertTheLateWorkWasCancelled() throws InterruptedException {
        reviewThread.get().join(Duration.ofSeconds(10));
        assertFalse(reviewThread.get().isAlive(), "the rule's thread ends once interrupted");
        assertTrue(reviewInterrupted.get());
        assertEquals(1, reviewsStarted.get(), "no SubjectAccessReview is started after the deadline");
    }

    @Test
    void aRuleThatFailsClosedIsDeniedWith504WhenItsDeadlinePasses() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Decision decision = decide(new TwoAuthorizations(FailurePolicy.FAIL), Policy.DEFAULT, events);
        assertFalse(decision.allowed());
        assertEquals(504, decision.code());
        assertEquals("Timeout", decision.reason());
        assertEquals(
                "rule two-authorizations did not finish within the review's deadline of 500 ms; denied, as its webhook fails closed"
                        + " (failurePolicy Fail)",
                decision.message());
        assertEquals("two-authorizations", decision.decidedBy());
        assertEquals(List.of("two-authorizations timeout", "timeout"), events);
        assertTheLateWorkWasCancelled();
    }

    @Test
    void aRuleThatFailsOpenIsAllowedWithAWarningWhenItsDeadlinePasses() throws Exception {
        Decision decision = decide(new TwoAuthorizations(FailurePolicy.IGNORE), Policy.DEFAULT, new ArrayList<>());
        assertTrue(decision.allowed());
        assertEquals(
                List.of(
                        "rule two-authorizations did not finish within the review's deadline of 500 ms; allowed without it, as its"
                                + " webhook fails open (failurePolicy Ignore)"),
                decision.warnings());
        assertFalse(decision.patched());
        assertTheLateWorkWasCancelled();
    }

    @Test
    void aRuleInWarnModeIsAllowedWhenItsDeadlinePassesWhateverItsFailurePolicy() throws Exception {
        Policy warn = new Policy(
                Map.of("two-authorizations", EnforcementMode.WARN),
                Set.of(),
                Policy.Export.DEFAULT,
                Policy.Restore.DEFAULT);
        Decision decision = decide(new TwoAuthorizations(FailurePolicy.FAIL), warn, new ArrayList<>());
        assertTrue(decision.allowed());
        assertEquals(
                List.of(
                        "rule two-authorizations did not finish within the review's deadline of 500 ms; allowed without it, as its"
                                + " webhook fails open in warn mode"),
                decision.warnings());
        assertTheLateWorkWasCancelled();
    }

    @Test
    void aRuleThatNeverCallsTheClusterIsStillAnsweredAtTheDeadline() throws Exception {
        AtomicReference<Thread> spinning = new AtomicReference<>();
        AdmissionRule spinner = new AdmissionRule() {
            @Override
            public String name() {
                return "spinner";
            }

            @Override
            public Match match() {
                return DATAVOLUMES;
            }

            @Override
            public Verdict admit(ReviewContext review) {
                spinning.set(Thread.currentThread());
                while (!Thread.currentThread().isInterrupted()) Thread.onSpinWait();
                return Verdict.allow();
            }
        };
        Decision decision = decide(spinner, Policy.DEFAULT, new ArrayList<>());
        assertEquals(504, decision.code());
        spinning.get().join(Duration.ofSeconds(10));
        assertFalse(spinning.get().isAlive(), "interrupted at the deadline");
    }
}
