package dev.lockkeeper.controller.plan;

/**
 * @param namespace          where primes, target holders and CopyTasks live (the installation namespace)
 * @param holderImage        the pause image holder pods run
 * @param filesystemOverhead CDI's default filesystem overhead, passed to the agents for block to filesystem copies
 */
public record Settings(String namespace, String holderImage, double filesystemOverhead) {
    public static final Settings DEFAULT = new Settings("lockkeeper", "registry.k8s.io/pause:3.10", 0.06);
}
