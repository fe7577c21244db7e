package dev.lockkeeper.webhook.policy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The admission policy: a mode per rule (absent means deny), namespaces no rule applies to, and
 * the thresholds rules read. Immutable; a reload swaps in a new instance.
 */
public record Policy(Map<String, EnforcementMode> modes, Set<String> excludedNamespaces, Export export, Restore restore) {

    public static final Policy DEFAULT = new Policy(Map.of(), Set.of(), Export.DEFAULT, Restore.DEFAULT);

    public Policy {
        modes = Map.copyOf(modes);
        excludedNamespaces = Set.copyOf(excludedNamespaces);
    }

    public EnforcementMode mode(String rule) {
        return modes.getOrDefault(rule, EnforcementMode.DENY);
    }

    public boolean excludes(String namespace) {
        return !namespace.isEmpty() && excludedNamespaces.contains(namespace);
    }

    /**
     * VirtualMachineExport thresholds: tokens shorter than {@code minTokenLength} or not alphanumeric
     * are weak; a {@code ttlDuration} above {@code maxTtl} is warned about. {@code exporterCreators}
     * are the exact users (KubeVirt's controller service account) whose exporter pods may mount an
     * exported PVC.
     */
    public record Export(int minTokenLength, Duration maxTtl, List<String> exporterCreators) {
        public static final Export DEFAULT = new Export(12, Duration.ofHours(24), List.of(
                "system:serviceaccount:kubevirt:kubevirt-controller", "system:serviceaccount:openshift-cnv:kubevirt-controller"));

        public Export {
            exporterCreators = List.copyOf(exporterCreators);
        }
    }

    /**
     * Which labels or annotations mark an object as being restored by a backup tool, and the
     * namespace Velero keeps its Restore objects in (a restored object does not say).
     */
    public record Restore(List<String> markerLabels, List<String> markerAnnotations, String veleroNamespace) {
        public static final Restore DEFAULT = new Restore(List.of("velero.io/restore-name"), List.of(), "velero");

        public Restore {
            markerLabels = List.copyOf(markerLabels);
            markerAnnotations = List.copyOf(markerAnnotations);
        }
    }
}
