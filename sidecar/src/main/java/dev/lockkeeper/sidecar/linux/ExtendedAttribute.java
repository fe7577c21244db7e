package dev.lockkeeper.sidecar.linux;

/**
 * One extended attribute of a file. POSIX ACLs ({@code system.posix_acl_access}, {@code system.posix_acl_default})
 * and file capabilities ({@code security.capability}) are extended attributes too, with binary values the kernel
 * defines; they are copied byte for byte like any other.
 *
 * @param name  the full name, namespace included ({@code user.origin}); one char per byte of the kernel's name
 *              (ISO-8859-1), because names are bytes, not text, and so any name survives the round trip unchanged
 * @param value the value's bytes, possibly none
 */
public record ExtendedAttribute(String name, byte[] value) {

    /** Decides about an attribute the target refused: return to skip it, throw to fail the copy. */
    @FunctionalInterface
    public interface Refusal {
        void refused(ExtendedAttribute attribute, ErrnoException reason) throws ErrnoException;
    }
}
