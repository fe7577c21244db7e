package dev.lockkeeper.webhook.policy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The admission policy: a mode per rule (absent means deny), namespaces no rule applies to, and
 * the thresholds rules read. Immutable; a reload swaps in a new instance.
 */
public record Policy(
        Map<String, EnforcementMode> modes,
        Set<String> excludedNamespaces,
        Export export,
        Restore restore,
        Limits limits) {

    public static final Policy DEFAULT =
            new Policy(Map.of(), Set.of(), Export.DEFAULT, Restore.DEFAULT, Limits.DEFAULT);

    /** A policy with the default limits. */
    public Policy(Map<String, EnforcementMode> modes, Set<String> excludedNamespaces, Export export, Restore restore) {
        this(modes, excludedNamespaces, export, restore, Limits.DEFAULT);
    }

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
        public static final Export DEFAULT = new Export(
                12,
                Duration.ofHours(24),
                List.of(
                        "system:serviceaccount:kubevirt:kubevirt-controller",
                        "system:serviceaccount:openshift-cnv:kubevirt-controller"));

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

    /**
     * How long a review may take, and how much of an object the rules will read.
     *
     * <p>Time: the API server puts its {@code timeoutSeconds} on the webhook URL ({@code ?timeout=3s}); a review gets
     * that less {@code answerReserve} (to write and send the answer), but never less than half of it.
     * {@code defaultTimeout} stands in when the URL has none (a hand-made request, an older API server).
     *
     * <p>Size: an object with more interfaces, disks, volumes or {@code dataVolumeTemplates} than these, an annotation
     * value longer than {@code maxAnnotationBytes}, or more than {@code maxObjectBytes} of JSON is refused with a 422
     * naming the limit before any rule reads it. The defaults are far above real VirtualMachines (KubeVirt's own
     * limits are lower) and at the API server's own bounds (256 KiB of annotations, 3 MiB per request).
     */
    public record Limits(
            Duration defaultTimeout,
            Duration answerReserve,
            int maxInterfaces,
            int maxDisks,
            int maxVolumes,
            int maxDataVolumeTemplates,
            int maxAnnotationBytes,
            int maxObjectBytes) {
        /** The API server refuses {@code timeoutSeconds} above 30. */
        public static final Duration LONGEST_TIMEOUT = Duration.ofSeconds(30);

        public static final Limits DEFAULT = new Limits(
                Duration.ofSeconds(3), Duration.ofMillis(500), 256, 256, 256, 256, 256 * 1024, 3 * 1024 * 1024);

        public Limits {
            if (defaultTimeout.isNegative()
                    || defaultTimeout.isZero()
                    || defaultTimeout.compareTo(LONGEST_TIMEOUT) > 0) {
                throw new IllegalArgumentException("limits.defaultTimeout must be above 0 and at most 30s");
            }
            if (answerReserve.isNegative())
                throw new IllegalArgumentException("limits.answerReserve must not be negative");
            if (Math.min(Math.min(maxInterfaces, maxDisks), Math.min(maxVolumes, maxDataVolumeTemplates)) < 1
                    || maxAnnotationBytes < 1
                    || maxObjectBytes < 1) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }

        /** The time a review may take when the API server gives up after {@code timeout} (null: not said). */
        public Duration budget(Duration timeout) {
            Duration given = timeout == null || timeout.isNegative() || timeout.isZero()
                    ? defaultTimeout
                    : timeout.compareTo(LONGEST_TIMEOUT) > 0 ? LONGEST_TIMEOUT : timeout;
            Duration reserved = given.minus(answerReserve);
            Duration half = given.dividedBy(2);
            return reserved.compareTo(half) < 0 ? half : reserved;
        }
    }
}
