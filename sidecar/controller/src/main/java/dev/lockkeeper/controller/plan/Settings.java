package dev.lockkeeper.controller.plan;

/**
 * @param namespace          where primes, target holders, CopyTasks and the agent pods live (the installation namespace)
 * @param holderImage        the pause image holder pods run
 * @param filesystemOverhead CDI's default filesystem overhead, passed to the agents for block to filesystem copies
 * @param agentDataPort      the port every agent pod's data plane listens on (the DaemonSet's {@code --data-port}): a
 *                           cross-node task names the source agent as its pod IP and this port
 */
public record Settings(String namespace, String holderImage, double filesystemOverhead, int agentDataPort) {
    /** The agent's default data port ({@code AgentSettings.DEFAULT_DATA_PORT}). */
    public static final int DEFAULT_AGENT_DATA_PORT = dev.lockkeeper.sidecar.agent.AgentSettings.DEFAULT_DATA_PORT;

    public static final Settings DEFAULT =
            new Settings("lockkeeper", "registry.k8s.io/pause:3.10", 0.06, DEFAULT_AGENT_DATA_PORT);

    public Settings {
        if (agentDataPort < 1 || agentDataPort > 65535)
            throw new IllegalArgumentException("the agents' data port must be 1 to 65535, got " + agentDataPort);
    }

    public Settings withAgentDataPort(int port) {
        return new Settings(namespace, holderImage, filesystemOverhead, port);
    }
}
