package dev.lockkeeper.certs;

import java.util.List;

/**
 * Who the serving certificate speaks for: the in-cluster Service (the API server dials
 * {@code <svc>.<ns>.svc}) plus the loopback names used by local runs and tests.
 */
public record ServingIdentity(String serviceName, String namespace) {

    public ServingIdentity {
        if (serviceName == null || serviceName.isBlank())
            throw new IllegalArgumentException("service name must not be empty");
        if (namespace == null || namespace.isBlank()) throw new IllegalArgumentException("namespace must not be empty");
    }

    public List<String> dnsNames() {
        return List.of("localhost", serviceName, serviceName + "." + namespace, serviceName + "." + namespace + ".svc");
    }

    public List<String> ipAddresses() {
        return List.of("127.0.0.1");
    }
}
