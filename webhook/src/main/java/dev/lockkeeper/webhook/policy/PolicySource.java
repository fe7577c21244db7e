package dev.lockkeeper.webhook.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force. Backed by a file (a ConfigMap mount in the cluster) that {@link #reload()}
 * re-reads; a file that fails validation is reported and the last good policy stays in force.
 */
public final class PolicySource implements Supplier<Policy> {
    private static final Logger LOG = LoggerFactory.getLogger(PolicySource.class);

    private final Path file;
    private final PolicyParser parser;
    private final AtomicReference<Policy> current;
    private volatile String lastText;

    private PolicySource(Path file, PolicyParser parser, Policy initial, String text) {
        this.file = file;
        this.parser = parser;
        this.current = new AtomicReference<>(initial);
        this.lastText = text;
    }

    public static PolicySource fixed(Policy policy) {
        return new PolicySource(null, null, policy, null);
    }

    /** Loads {@code file} now; a missing or invalid file at startup is an error, not a default. */
    public static PolicySource fromFile(Path file, PolicyParser parser) throws PolicyException {
        String text = read(file);
        return new PolicySource(file, parser, parser.parse(file.toString(), text), text);
    }

    @Override
    public Policy get() {
        return current.get();
    }

    /** Re-reads the file; returns true when a changed, valid policy was installed. */
    public boolean reload() {
        if (file == null) return false;
        try {
            String text = read(file);
            if (text.equals(lastText)) return false;
            lastText = text;
            current.set(parser.parse(file.toString(), text));
            LOG.info("policy reloaded from " + file);
            return true;
        } catch (PolicyException e) {
            LOG.error("policy not reloaded, the previous policy stays in force: " + e.getMessage());
            return false;
        }
    }

    private static String read(Path file) throws PolicyException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new PolicyException(file + ": cannot read policy: " + e.getMessage());
        }
    }
}
