package dev.lockkeeper.sidecar.agent;

import java.io.IOException;

/** An agent with its admin server, started in order and stopped in reverse. */
final class RunningAgent implements AutoCloseable {
    private final Agent agent;
    private final AdminServer admin;

    private RunningAgent(Agent agent, AdminServer admin) {
        this.agent = agent;
        this.admin = admin;
    }

    static RunningAgent start(AgentSettings settings, TaskIntake intake, DataPlane dataPlane) throws IOException {
        VolumeLocator locator = new VolumeLocator(settings.kubeletRoot(), settings.allowedRoots());
        Agent agent = new Agent(settings, intake, locator, new StateDirectory(settings.stateDir()), dataPlane);
        AdminServer admin = new AdminServer(settings.adminAddress(), agent::notReady, agent.metrics());
        try {
            agent.start();
        } catch (IOException | RuntimeException e) {
            admin.close();
            agent.close();
            throw e;
        }
        return new RunningAgent(agent, admin);
    }

    int adminPort() {
        return admin.port();
    }

    int dataPort() {
        return agent.dataPort();
    }

    @Override
    public void close() {
        agent.close();
        admin.close();
    }
}
