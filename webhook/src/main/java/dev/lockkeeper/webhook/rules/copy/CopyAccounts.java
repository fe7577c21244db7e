package dev.lockkeeper.webhook.rules.copy;

/**
 * The users the copy rules trust, as the API server names them in {@code userInfo.username}: the controller's service
 * account (creates CopyTasks and the holder pods) and the agents' (write the status of their node's tasks). Matched
 * exactly: a same-named service account in another namespace is somebody else.
 */
public record CopyAccounts(String controller, String agent) {
    public static final CopyAccounts DEFAULT = new CopyAccounts(
            "system:serviceaccount:lockkeeper:lockkeeper-controller",
            "system:serviceaccount:lockkeeper:lockkeeper-agent");

    public CopyAccounts {
        if (controller == null || controller.isBlank() || agent == null || agent.isBlank())
            throw new IllegalArgumentException("the controller and agent users must be named");
        if (controller.equals(agent))
            throw new IllegalArgumentException("the controller and the agents must be different users: " + agent);
    }
}
