package dev.lockkeeper.certs.token;

/** The copier's single answer to a bad token is CDI's "invalid token"; {@link #detail()} says why, for logs. */
public final class InvalidCloneTokenException extends Exception {
    private final String detail;

    public InvalidCloneTokenException(String detail) {
        super("invalid token");
        this.detail = detail;
    }

    public String detail() {
        return detail;
    }
}
