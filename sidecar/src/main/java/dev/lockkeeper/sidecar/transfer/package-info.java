/**
 * The contract between the node agent (task intake, path containment, scheduling, status) and the data plane that
 * moves one task's bytes between two nodes. The agent resolves both ends of a task to paths inside volume roots it
 * has checked, then hands the target end to a {@link dev.lockkeeper.sidecar.transfer.Puller} (the target agent drives)
 * and serves the source end through a {@link dev.lockkeeper.sidecar.transfer.SourceCatalog}. Retry policy lives in
 * the agent: a transfer reports whether its failure is worth another attempt, and resumes from the
 * {@link dev.lockkeeper.sidecar.transfer.Checkpoint} it recorded.
 */
package dev.lockkeeper.sidecar.transfer;
