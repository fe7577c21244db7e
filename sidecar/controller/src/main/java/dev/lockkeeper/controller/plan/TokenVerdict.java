package dev.lockkeeper.controller.plan;

/** What the clone token of a VolumeCopy proved, decided once by {@link CloneTokenCheck}. */
public sealed interface TokenVerdict {
    /** Source and target share a namespace: CDI asks for no token then. */
    record NotRequired() implements TokenVerdict {}

    record Valid() implements TokenVerdict {}

    /** @param detail why, for the VolumeCopy's Authorized condition and the log (the user-facing answer is "invalid token") */
    record Invalid(String detail) implements TokenVerdict {}

    /** Not looked at: the VolumeCopy already records the verdict. */
    record NotChecked() implements TokenVerdict {}
}
