package dev.lockkeeper.webhook.admission;

/** The body is not an AdmissionReview this server can judge: HTTP 400, no decision. */
public final class BadAdmissionReview extends Exception {
    public BadAdmissionReview(String message) {
        super(message);
    }
}
