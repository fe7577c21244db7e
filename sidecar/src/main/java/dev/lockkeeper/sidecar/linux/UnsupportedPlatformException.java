package dev.lockkeeper.sidecar.linux;

import java.util.Optional;

/** This machine cannot run the engine's system calls (an architecture without a system call table here). */
public final class UnsupportedPlatformException extends UnsupportedOperationException {
    UnsupportedPlatformException(String message) {
        super(message);
    }

    /**
     * The refusal behind a failure, if that is what it is. The JVM reports it as the cause of an
     * ExceptionInInitializerError on first use and of a NoClassDefFoundError on every later use.
     */
    public static Optional<UnsupportedPlatformException> in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof UnsupportedPlatformException refusal) return Optional.of(refusal);
        }
        return Optional.empty();
    }
}
