package dev.lockkeeper.sidecar.copy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Unfinished results of the copies in progress (a file target's partial file, a tree target's staging
 * directory's contents), removed when the JVM is asked to stop before they are published: SIGTERM from kubelet or systemd,
 * SIGINT from a terminal. Each result is owned by exactly one side: the copy {@link #claim}s it back before
 * publishing, the stop hook claims it before removing, so a stop can never remove part of a result that is
 * being published. A SIGKILL or a power cut leaves results behind; the next copy to the same target removes
 * them. Either way nothing partial ever carries a final name.
 */
final class PartialResults {
    private static final Set<Path> UNPUBLISHED = ConcurrentHashMap.newKeySet();
    private static final int REMOVAL_ATTEMPTS = 5;

    static {
        Runtime.getRuntime()
                .addShutdownHook(Thread.ofPlatform().name("lk-partial-cleanup").unstarted(PartialResults::removeAll));
    }

    private PartialResults() {}

    static void track(Path partial) {
        UNPUBLISHED.add(partial);
    }

    /** Takes a result back from the stop hook; false when a stop has already claimed it for removal. */
    static boolean claim(Path partial) {
        return UNPUBLISHED.remove(partial);
    }

    private static void removeAll() {
        for (Path partial : List.copyOf(UNPUBLISHED)) {
            if (claim(partial)) remove(partial);
        }
    }

    private static void remove(Path partial) {
        for (int attempt = 1; attempt <= REMOVAL_ATTEMPTS; attempt++) {
            try {
                // a tree's staging directory is emptied, not removed: it marks its target as unfinished
                if (Files.isDirectory(partial, LinkOption.NOFOLLOW_LINKS)) TreeCopier.removeContents(partial);
                else Files.deleteIfExists(partial);
                return;
            } catch (IOException e) {
                // a tree copy's walk may still be adding entries: give it a moment and walk again
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }
}
