package dev.lockkeeper.webhook.rules.copy;

import static dev.lockkeeper.webhook.rules.copy.CopyFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CopyTaskWritesTest {
    static final String LONG_NODE = "worker-" + "a".repeat(60) + ".rack-7.dc-west.example.com";

    /** A task copying from node-a to node-b as the controller makes it; a long node name is labelled by its hash. */
    static ObjectNode task(String sourceLabel, String targetLabel, String status) {
        return TestCluster.yaml("{apiVersion: lockkeeper.dev/v1alpha1, kind: CopyTask, metadata: {name: "
                + "lk-copy-3f0b6c52, namespace: lockkeeper, labels: {app.kubernetes.io/managed-by: lockkeeper, "
                + "lockkeeper.dev/source-node: " + sourceLabel + ", lockkeeper.dev/target-node: " + targetLabel
                + "}}, spec: {contentType: kubevirt, source: {node: node-a}, target: {node: node-b}}"
                + (status == null ? "" : ", status: " + status) + "}");
    }

    static final ObjectNode STORED = task("node-a", "node-b", "{phase: Queued}");
    static final ObjectNode RUNNING = task("node-a", "node-b", "{phase: Running, progress: '45.20%'}");

    static AdmissionRequest write(
            Operation operation, String subresource, ObjectNode object, ObjectNode old, UserInfo user) {
        return request(
                "lockkeeper.dev",
                "CopyTask",
                "copytasks",
                subresource,
                operation,
                "lockkeeper",
                "lk-copy-3f0b6c52",
                object,
                old,
                user);
    }

    static AdmissionRequest statusWrite(ObjectNode old, UserInfo user) {
        return write(Operation.UPDATE, "status", RUNNING, old, user);
    }

    Decision validate(AdmissionRequest request, CopyAccounts accounts) {
        return run(
                AdmissionChain.Stage.VALIDATING,
                Rulebook.validating(new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE), accounts),
                TestCluster.with(),
                request);
    }

    Decision validate(AdmissionRequest request) {
        return validate(request, CopyAccounts.DEFAULT);
    }

    static final UserInfo AGENT_A = agentOn("node-a");
    static final UserInfo AGENT_B = agentOn("node-b");
    static final UserInfo AGENT_C = agentOn("node-c");
    static final String ONLY_CONTROLLER =
            "only the Lockkeeper controller (system:serviceaccount:lockkeeper:lockkeeper-controller) may ";

    static Stream<Arguments> allowed() {
        ObjectNode cancelled = STORED.deepCopy();
        cancelled.with("spec").put("cancel", true);
        return Stream.of(
                Arguments.of("the controller creates", write(Operation.CREATE, "", STORED, null, CONTROLLER)),
                Arguments.of(
                        "the controller cancels (spec)", write(Operation.UPDATE, "", cancelled, STORED, CONTROLLER)),
                Arguments.of("the controller deletes", write(Operation.DELETE, "", null, STORED, CONTROLLER)),
                Arguments.of("the source node's agent writes status", statusWrite(STORED, AGENT_A)),
                Arguments.of("the target node's agent writes status", statusWrite(STORED, AGENT_B)),
                Arguments.of(
                        "the agent of a node whose name is labelled by its hash",
                        statusWrite(task(CopyTaskWrites.nodeLabel(LONG_NODE), "node-b", null), agentOn(LONG_NODE))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allowed")
    void theControllerWritesTasksAndAnAgentTheStatusOfItsOwn(String name, AdmissionRequest request) {
        Decision decision = validate(request);
        assertTrue(decision.allowed(), decision.message());
    }

    static Stream<Arguments> refused() {
        ObjectNode movedToC = RUNNING.deepCopy();
        movedToC.with("metadata").with("labels").put("lockkeeper.dev/target-node", "node-c");
        UserInfo noNode = serviceAccount("lockkeeper", "lockkeeper-agent", Map.of());
        UserInfo twoNodes = serviceAccount(
                "lockkeeper",
                "lockkeeper-agent",
                Map.of("authentication.kubernetes.io/node-name", List.of("node-a", "node-c")));
        UserInfo otherNamespaceAgent = serviceAccount(
                "team-a", "lockkeeper-agent", Map.of("authentication.kubernetes.io/node-name", List.of("node-a")));
        String task = "CopyTask lockkeeper/lk-copy-3f0b6c52";
        String noNodeMessage = "agent system:serviceaccount:lockkeeper:lockkeeper-agent may not write the status of "
                + task + ": its credentials name no node (userInfo.extra authentication.kubernetes.io/node-name); use"
                + " the agent pod's own service account token";
        String agentOnly = "agent system:serviceaccount:lockkeeper:lockkeeper-agent may write only the status of "
                + task + " (the status subresource), not ";
        return Stream.of(
                Arguments.of(
                        "a user creates",
                        write(Operation.CREATE, "", STORED, null, ALICE),
                        ONLY_CONTROLLER + "create " + task + "; alice may not"),
                Arguments.of(
                        "a user deletes",
                        write(Operation.DELETE, "", null, STORED, ALICE),
                        ONLY_CONTROLLER + "delete " + task + "; alice may not"),
                Arguments.of(
                        "a user writes status",
                        statusWrite(STORED, ALICE),
                        "only the Lockkeeper controller (system:serviceaccount:lockkeeper:lockkeeper-controller) and its"
                                + " agents (system:serviceaccount:lockkeeper:lockkeeper-agent, for their own node's"
                                + " tasks) may write the status of " + task + "; alice may not"),
                Arguments.of(
                        "a same-named service account of another namespace",
                        statusWrite(STORED, otherNamespaceAgent),
                        "only the Lockkeeper controller (system:serviceaccount:lockkeeper:lockkeeper-controller) and its"
                                + " agents (system:serviceaccount:lockkeeper:lockkeeper-agent, for their own node's"
                                + " tasks) may write the status of " + task
                                + "; system:serviceaccount:team-a:lockkeeper-agent may not"),
                Arguments.of(
                        "an agent creates",
                        write(Operation.CREATE, "", STORED, null, AGENT_A),
                        agentOnly + "create it; tasks are the controller's"),
                Arguments.of(
                        "an agent of the task's node updates its spec",
                        write(Operation.UPDATE, "", RUNNING, STORED, AGENT_A),
                        agentOnly + "update it; tasks are the controller's"),
                Arguments.of(
                        "an agent deletes",
                        write(Operation.DELETE, "", null, STORED, AGENT_B),
                        agentOnly + "delete it; tasks are the controller's"),
                Arguments.of(
                        "an agent of another node writes status",
                        statusWrite(STORED, AGENT_C),
                        "the agent on node node-c may not write the status of " + task + ": it is the task of source"
                                + " node node-a and target node node-b"),
                Arguments.of(
                        "an agent relabels the task to its node in the status write",
                        write(Operation.UPDATE, "status", movedToC, STORED, AGENT_C),
                        "the agent on node node-c may not write the status of " + task + ": it is the task of source"
                                + " node node-a and target node node-b"),
                Arguments.of("an agent token without a node", statusWrite(STORED, noNode), noNodeMessage),
                Arguments.of("an agent token naming two nodes", statusWrite(STORED, twoNodes), noNodeMessage),
                Arguments.of(
                        "a node name whose hash is not the label",
                        statusWrite(task(LONG_NODE.substring(0, 63), "node-b", null), agentOn(LONG_NODE)),
                        "the agent on node " + LONG_NODE + " may not write the status of " + task + ": it is the task"
                                + " of source node " + LONG_NODE.substring(0, 63) + " and target node node-b"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void everyOtherWriteIsRefused(String name, AdmissionRequest request, String message) {
        Decision decision = validate(request);
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(message, decision.message());
        assertEquals("copytask-writes", decision.decidedBy());
    }

    @Test
    void theTrustedAccountsAreConfigured() {
        var accounts = new CopyAccounts(
                "system:serviceaccount:storage:lk-controller", "system:serviceaccount:storage:lk-agent");
        assertFalse(validate(write(Operation.CREATE, "", STORED, null, CONTROLLER), accounts)
                .allowed());
        assertTrue(validate(
                        write(Operation.CREATE, "", STORED, null, serviceAccount("storage", "lk-controller", Map.of())),
                        accounts)
                .allowed());
        assertTrue(validate(
                        statusWrite(
                                STORED,
                                serviceAccount(
                                        "storage",
                                        "lk-agent",
                                        Map.of("authentication.kubernetes.io/node-name", List.of("node-b")))),
                        accounts)
                .allowed());
        assertFalse(validate(statusWrite(STORED, AGENT_B), accounts).allowed());
    }

    @Test
    void theControllerAndTheAgentsMustBeDifferentUsers() {
        var thrown = assertThrows(
                IllegalArgumentException.class,
                () -> new CopyAccounts("system:serviceaccount:x:y", "system:serviceaccount:x:y"));
        assertEquals(
                "the controller and the agents must be different users: system:serviceaccount:x:y",
                thrown.getMessage());
    }
}
