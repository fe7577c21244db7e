package dev.lockkeeper.sidecar.agent;

import java.io.IOException;

/** The data plane an agent's settings ask for. */
final class DataPlanes {
    private DataPlanes() {
    }

    static DataPlane forSettings(AgentSettings settings) throws IOException {
        if (settings.tlsDir().isEmpty()) return DataPlane.NONE;
        throw new IOException("--tls-dir: streaming between nodes is not wired into the agent yet");
    }
}
