package dev.lockkeeper.webhook.admission;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rule's logger for one review: every line starts with the review's uid, kind and namespace. A prefix rather than
 * the MDC because the backend (slf4j-simple) does not print the MDC; the prefix goes in as an argument, so a uid
 * with "{}" in it cannot shift the placeholders.
 */
public final class ReviewLog {
    private static final Logger LOG = LoggerFactory.getLogger("dev.lockkeeper.webhook.review");
    private static final int MAX_FIELD = 80;

    private final Logger logger;
    private final String prefix;

    ReviewLog(Logger logger, String prefix) {
        this.logger = logger;
        this.prefix = prefix;
    }

    static ReviewLog of(AdmissionRequest request) {
        String namespace = request.objectNamespace().isEmpty() ? "(cluster)" : request.objectNamespace();
        return new ReviewLog(
                LOG, "review " + cut(request.uid()) + " " + cut(request.kind().kind()) + " " + cut(namespace) + ": ");
    }

    public String prefix() {
        return prefix;
    }

    public void info(String format, Object... arguments) {
        if (logger.isInfoEnabled()) logger.info("{}" + format, prepend(arguments));
    }

    public void warn(String format, Object... arguments) {
        if (logger.isWarnEnabled()) logger.warn("{}" + format, prepend(arguments));
    }

    public void error(String format, Object... arguments) {
        logger.error("{}" + format, prepend(arguments));
    }

    private Object[] prepend(Object[] arguments) {
        Object[] all = new Object[arguments.length + 1];
        all[0] = prefix;
        System.arraycopy(arguments, 0, all, 1, arguments.length);
        return all;
    }

    private static String cut(String text) {
        return text.length() <= MAX_FIELD ? text : text.substring(0, MAX_FIELD) + "…";
    }
}
