package dev.lockkeeper.webhook.admission;

import java.util.EnumSet;
import java.util.Set;

/** Which requests a rule handles: one resource (and subresource) and a set of operations. */
public record Match(String group, String resource, String subresource, Set<Operation> operations) {

    public static Match of(String group, String resource, Operation first, Operation... rest) {
        return new Match(group, resource, "", EnumSet.of(first, rest));
    }

    public boolean matches(AdmissionRequest request) {
        return operations.contains(request.operation()) && request.is(group, resource, subresource);
    }
}
