package dev.lockkeeper.sidecar.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names for the network namespaces a test makes, unique to this JVM: two test runs on one machine (two worktrees) no
 * longer delete or reconfigure each other's namespaces. Links and addresses live inside the namespaces, so only the
 * namespace names need it.
 */
public final class NetworkNamespaces {
    private NetworkNamespaces() {}

    /**
     * {@code prefix-PID}, after deleting namespaces {@code prefix-N} whose process is gone: what a killed test run left
     * behind. Without root or {@code ip} (the test skips then) it only names.
     */
    public static String name(String prefix) {
        if (Commands.isRoot() && Commands.available("ip")) deleteLeftovers(prefix);
        return prefix + "-" + ProcessHandle.current().pid();
    }

    private static void deleteLeftovers(String prefix) {
        Pattern ours = Pattern.compile("^" + Pattern.quote(prefix) + "-(\\d+)\\b", Pattern.MULTILINE);
        Matcher leftover = ours.matcher(Commands.run("ip", "netns", "list").stdout());
        while (leftover.find()) {
            long pid = Long.parseLong(leftover.group(1));
            if (ProcessHandle.of(pid).isEmpty()) Commands.run("ip", "netns", "del", prefix + "-" + pid);
        }
    }
}
