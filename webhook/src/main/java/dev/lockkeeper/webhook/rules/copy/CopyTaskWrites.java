package dev.lockkeeper.webhook.rules.copy;

import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Validating, CopyTask CREATE, UPDATE (the object and its status) and DELETE: a task tells an agent which volumes to
 * read and write, so only the controller creates, changes or deletes one. An agent writes only the status, and only of
 * a task of its own node: the one named by the task's {@code lockkeeper.dev/source-node} or
 * {@code lockkeeper.dev/target-node} label as stored (the body of a status write cannot move a task to another node).
 * The agent's node is what the API server says its token was bound to ({@code userInfo.extra}
 * {@value #NODE_NAME}), never what the agent claims; a token without it (not a pod's bound token) writes nothing.
 */
public final class CopyTaskWrites implements AdmissionRule {
    private static final Match MATCH =
            Match.of(VolumeCopies.GROUP, "copytasks", Operation.CREATE, Operation.UPDATE, Operation.DELETE);
    static final String NODE_NAME = "authentication.kubernetes.io/node-name";
    static final String SOURCE_NODE = "lockkeeper.dev/source-node";
    static final String TARGET_NODE = "lockkeeper.dev/target-node";
    private static final String STATUS = "status";

    private final CopyAccounts accounts;

    public CopyTaskWrites(CopyAccounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public String name() {
        return "copytask-writes";
    }

    /** Writes to the object itself; {@link #handles} adds its status subresource. */
    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public boolean handles(AdmissionRequest request) {
        return MATCH.operations().contains(request.operation())
                && (request.is(MATCH.group(), MATCH.resource(), "")
                        || request.is(MATCH.group(), MATCH.resource(), STATUS));
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        String user = request.userInfo().username();
        if (accounts.controller().equals(user)) return Verdict.allow();
        String task = "CopyTask " + request.objectNamespace() + "/" + request.objectName();
        boolean statusWrite = STATUS.equals(request.subResource()) && request.operation() == Operation.UPDATE;
        if (!accounts.agent().equals(user)) {
            String allowed = statusWrite
                    ? "the Lockkeeper controller (" + accounts.controller() + ") and its agents (" + accounts.agent()
                            + ", for their own node's tasks)"
                    : "the Lockkeeper controller (" + accounts.controller() + ")";
            return denied("only " + allowed + " may " + verb(request) + " " + task + "; " + user + " may not");
        }
        if (!statusWrite) {
            return denied("agent " + user + " may write only the status of " + task + " (the status subresource),"
                    + " not " + verb(request) + " it; tasks are the controller's");
        }
        String node = boundNode(request.userInfo().extra());
        if (node == null) {
            return denied("agent " + user + " may not write the status of " + task + ": its credentials name no node"
                    + " (userInfo.extra " + NODE_NAME + "); use the agent pod's own service account token");
        }
        String nodeLabel = nodeLabel(node);
        String sourceNode = Json.text(request.oldObject(), "metadata", "labels", SOURCE_NODE);
        String targetNode = Json.text(request.oldObject(), "metadata", "labels", TARGET_NODE);
        if (nodeLabel.equals(sourceNode) || nodeLabel.equals(targetNode)) return Verdict.allow();
        return denied("the agent on node " + node + " may not write the status of " + task + ": it is the task of"
                + " source node " + shown(sourceNode) + " and target node " + shown(targetNode));
    }

    private static Verdict denied(String message) {
        return Verdict.forbidden(message);
    }

    private static String verb(AdmissionRequest request) {
        return switch (request.operation()) {
            case CREATE -> "create";
            case DELETE -> "delete";
            default -> STATUS.equals(request.subResource()) ? "write the status of" : "update";
        };
    }

    /** The one node a bound service account token names; none when absent or ambiguous. */
    private static String boundNode(Map<String, List<String>> extra) {
        List<String> values = extra.get(NODE_NAME);
        return values == null || values.size() != 1 || values.getFirst().isEmpty() ? null : values.getFirst();
    }

    /**
     * The label value the controller gives a node (its {@code plan/Names.nodeLabel}; the two must agree): the name
     * itself when it is a valid label value, else {@code h-} and 40 hex digits of its SHA-256 (node names may be 253
     * characters, label values 63).
     */
    static String nodeLabel(String node) {
        if (node.length() <= 63 && node.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) return node;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
            return "h-" + HexFormat.of().formatHex(digest).substring(0, 40);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shown(String label) {
        return label.isEmpty() ? "(none)" : label;
    }
}
