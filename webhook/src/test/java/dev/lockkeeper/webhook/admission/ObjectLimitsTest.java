package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.policy.PolicyParser;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The policy's size limits: a 422 naming the limit before any rule runs; within them, the rules run as before. */
class ObjectLimitsTest {
    static final Match VMS = Match.of("kubevirt.io", "virtualmachines", Operation.CREATE, Operation.UPDATE);
    final AtomicInteger ruleRuns = new AtomicInteger();
    final AdmissionRule counting = new AdmissionRule() {
        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Match match() {
            return VMS;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            ruleRuns.incrementAndGet();
            return Verdict.allow();
        }
    };

    static ObjectNode vm(String spec) {
        return TestCluster.yaml(
                "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: team-a}, spec: "
                        + spec + "}");
    }

    static ObjectNode withItems(ObjectNode vm, String pointer, String field, int count) {
        ArrayNode items = vm.withObject(pointer).putArray(field);
        for (int i = 0; i < count; i++) items.addObject().put("name", "item-" + i);
        return vm;
    }

    Decision decide(ObjectNode object, ObjectNode old, String policy) throws Exception {
        Policy parsed = new PolicyParser(Set.of("counting")).parse("policy.yaml", policy);
        var request = Reviews.virtualMachine(old == null ? Operation.CREATE : Operation.UPDATE, "team-a", object, old);
        return new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING,
                        List.of(counting),
                        TestCluster.with(),
                        RuleObserver.NONE,
                        () -> parsed)
                .decide(request);
    }

    void assertRefused(Decision decision, String field, String message) {
        assertFalse(decision.allowed());
        assertEquals(422, decision.code());
        assertEquals(message, decision.message());
        assertEquals(List.of(Cause.invalid(field, message)), decision.causes());
        assertEquals("limits", decision.decidedBy());
        assertEquals(0, ruleRuns.get(), "refused before any rule ran");
    }

    @Test
    void eachListLimitIsA422NamingTheFieldAndTheLimit() throws Exception {
        assertRefused(
                decide(withItems(vm("{}"), "/spec/template/spec/domain/devices", "interfaces", 257), null, ""),
                "spec.template.spec.domain.devices.interfaces",
                "spec.template.spec.domain.devices.interfaces has 257 items, more than the policy's limits.maxInterfaces (256)");
        assertRefused(
                decide(withItems(vm("{}"), "/spec/template/spec/domain/devices", "disks", 257), null, ""),
                "spec.template.spec.domain.devices.disks",
                "spec.template.spec.domain.devices.disks has 257 items, more than the policy's limits.maxDisks (256)");
        assertRefused(
                decide(withItems(vm("{}"), "/spec/template/spec", "volumes", 257), null, ""),
                "spec.template.spec.volumes",
                "spec.template.spec.volumes has 257 items, more than the policy's limits.maxVolumes (256)");
        assertRefused(
                decide(withItems(vm("{}"), "/spec", "dataVolumeTemplates", 257), null, ""),
                "spec.dataVolumeTemplates",
                "spec.dataVolumeTemplates has 257 items, more than the policy's limits.maxDataVolumeTemplates (256)");
        assertRefused(
                decide(withItems(vm("{}"), "/spec/domain/devices", "interfaces", 257), null, ""),
                "spec.domain.devices.interfaces",
                "spec.domain.devices.interfaces has 257 items, more than the policy's limits.maxInterfaces (256)");
        assertRefused(
                decide(withItems(vm("{}"), "/spec", "volumes", 257), null, ""),
                "spec.volumes",
                "spec.volumes has 257 items, more than the policy's limits.maxVolumes (256)");
    }

    @Test
    void atTheLimitTheRulesRun() throws Exception {
        ObjectNode full = withItems(
                withItems(vm("{}"), "/spec/template/spec/domain/devices", "interfaces", 256),
                "/spec",
                "dataVolumeTemplates",
                256);
        assertTrue(decide(full, null, "").allowed());
        assertEquals(1, ruleRuns.get());
    }

    @Test
    void thePolicySetsTheLimits() throws Exception {
        ObjectNode four = withItems(vm("{}"), "/spec", "dataVolumeTemplates", 4);
        assertRefused(
                decide(four, null, "limits: {maxDataVolumeTemplates: 3}"),
                "spec.dataVolumeTemplates",
                "spec.dataVolumeTemplates has 4 items, more than the policy's limits.maxDataVolumeTemplates (3)");
    }

    @Test
    void aLongAnnotationValueIsA422NamingTheAnnotation() throws Exception {
        ObjectNode annotated = vm("{}");
        annotated.withObject("/metadata/annotations").put("example.com/notes", "x".repeat(101));
        assertRefused(
                decide(annotated, null, "limits: {maxAnnotationBytes: 100}"),
                "metadata.annotations[example.com/notes]",
                "metadata.annotations[example.com/notes] is 101 characters, more than the policy's limits.maxAnnotationBytes (100)");
    }

    @Test
    void aLargeObjectIsA422NamingTheLimit() throws Exception {
        ObjectNode large = vm("{}");
        large.withObject("/spec").put("description", "x".repeat(2000));
        assertRefused(
                decide(large, null, "limits: {maxObjectBytes: 2000}"),
                "",
                "the object is more than the policy's limits.maxObjectBytes (2000) of JSON");
    }

    @Test
    void theJsonLengthIsTheCompactLengthAndTheWalkStopsAtTheLimit() {
        ObjectNode node = TestCluster.yaml("{a: [1, \"xy\", true, null, {b: {}}], c: -2.5}");
        int length = node.toString().length();
        assertFalse(ObjectLimits.jsonLengthAbove(node, length));
        assertTrue(ObjectLimits.jsonLengthAbove(node, length - 1));
    }

    @Test
    void theOldObjectIsNotCheckedSoAnOversizedStoredObjectCanBeShrunk() throws Exception {
        ObjectNode stored = withItems(vm("{}"), "/spec", "dataVolumeTemplates", 300);
        assertTrue(decide(withItems(vm("{}"), "/spec", "dataVolumeTemplates", 2), stored, "")
                .allowed());
    }

    @Test
    void anObjectNoRuleReadsIsNotChecked() throws Exception {
        Policy off = new PolicyParser(Set.of("counting")).parse("p", "rules: {counting: off}");
        var request = Reviews.virtualMachine(
                Operation.CREATE, "team-a", withItems(vm("{}"), "/spec", "dataVolumeTemplates", 300), null);
        assertTrue(new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING,
                        List.of(counting),
                        TestCluster.with(),
                        RuleObserver.NONE,
                        () -> off)
                .decide(request)
                .allowed());
    }
}
