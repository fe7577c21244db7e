package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The identity fixes of a restored VM or standalone VMI, made on its domain spec: MACs cleared and the firmware
 * uuid regenerated when the Velero Restore carries the plugin's label, as the kubevirt-velero-plugin does (beyond
 * upstream, a firmware serial is regenerated with the uuid); beyond upstream,
 * any MAC, uuid or serial another VM or VMI already uses is replaced. Only the values changed are touched, each
 * with a warning naming old and new. Reinvocation is a no-op: cleared MACs are gone, replacements are unused, and
 * {@link RestoreKeys#IDENTITY_REGENERATED_FOR} records that what the Restore asked (clearing MACs, new firmware
 * identity) was done.
 */
final class RestoredIdentity {
    private RestoredIdentity() {}

    /** Fixes the domain at {@code domainPath} of the restored VM or VMI the request creates. */
    static Verdict fix(ReviewContext review, String... domainPath) {
        AdmissionRequest request = review.request();
        ObjectNode restored = request.object();
        Optional<VeleroRestore> restore = VeleroRestore.of(
                restored, review.cluster(), review.policy().restore().veleroNamespace());
        IdentityUsers users = new IdentityUsers(review.cluster(), request.objectNamespace(), request.objectName());
        ObjectEdit edit = ObjectEdit.of(restored);
        List<String> warnings = new ArrayList<>();
        Optional<ObjectNode> domain = Json.objectAt(edit.object(), domainPath);
        // What the Restore asks is done once per restore: a reinvocation must keep MACs that a later
        // webhook (kubemacpool) assigned after the first pass cleared them.
        Optional<VeleroRestore> pending =
                restore.filter(r -> !r.name().equals(Json.annotation(restored, RestoreKeys.IDENTITY_REGENERATED_FOR)));
        Optional<VeleroRestore> clearing = pending.filter(r -> r.asks(RestoreKeys.CLEAR_MAC_ADDRESS));
        Optional<VeleroRestore> regenerating = pending.filter(r -> r.asks(RestoreKeys.GENERATE_NEW_FIRMWARE_UUID));
        if (domain.isPresent()) {
            Field at = new Field(edit, domainPath);
            replaceMacs(domain.get(), at, clearing, users, warnings);
            if (regenerating.isPresent()) regenerateFirmware(domain.get(), at, regenerating.get(), warnings);
            else replaceUsedFirmware(domain.get(), at, users, warnings);
        }
        clearing.or(() -> regenerating)
                .ifPresent(
                        done -> edit.put(done.name(), "metadata", "annotations", RestoreKeys.IDENTITY_REGENERATED_FOR));
        return edit.verdict(warnings);
    }

    /** Fields under the domain, changed through the edit so each change is one patch operation. */
    private record Field(ObjectEdit edit, String[] domainPath) {
        void put(String value, String... path) {
            edit.put(value, under(path));
        }

        void remove(String... path) {
            edit.remove(under(path));
        }

        private String[] under(String... path) {
            String[] full = Arrays.copyOf(domainPath, domainPath.length + path.length);
            System.arraycopy(path, 0, full, domainPath.length, path.length);
            return full;
        }
    }

    private static void replaceMacs(
            ObjectNode domain, Field at, Optional<VeleroRestore> clearing, IdentityUsers users, List<String> warnings) {
        JsonNode interfaces = Json.at(domain, "devices", "interfaces");
        for (int i = 0; i < interfaces.size(); i++) {
            if (!(interfaces.get(i) instanceof ObjectNode iface)) continue;
            String mac = Json.text(iface, "macAddress");
            if (mac.isEmpty()) continue;
            String where = " on interface " + Json.text(iface, "name");
            String index = Integer.toString(i);
            if (clearing.isPresent()) {
                at.remove("devices", "interfaces", index, "macAddress");
                warnings.add(
                        "restore: cleared MAC " + mac + where + clearing.get().because(RestoreKeys.CLEAR_MAC_ADDRESS));
                continue;
            }
            Optional<String> user = users.ofMac(mac);
            if (user.isEmpty()) continue;
            String fresh = IdentityGenerator.mac(users);
            at.put(fresh, "devices", "interfaces", index, "macAddress");
            warnings.add("restore: MAC " + mac + " -> " + fresh + where + " (used by " + user.get() + ")");
        }
    }

    private static void regenerateFirmware(ObjectNode domain, Field at, VeleroRestore restore, List<String> warnings) {
        String because = restore.because(RestoreKeys.GENERATE_NEW_FIRMWARE_UUID);
        boolean hadSerial = Json.at(domain, "firmware").has("serial");
        replace(domain, at, "uuid", IdentityGenerator::uuid, because, warnings);
        if (hadSerial) replace(domain, at, "serial", IdentityGenerator::serial, because, warnings);
    }

    private static void replaceUsedFirmware(ObjectNode domain, Field at, IdentityUsers users, List<String> warnings) {
        if (Json.objectAt(domain, "firmware").isEmpty()) return;
        replaceIfUsed(domain, at, "uuid", users::ofUuid, IdentityGenerator::uuid, warnings);
        replaceIfUsed(domain, at, "serial", users::ofSerial, IdentityGenerator::serial, warnings);
    }

    private static void replaceIfUsed(
            ObjectNode domain,
            Field at,
            String field,
            Function<String, Optional<String>> usersOf,
            Supplier<String> fresh,
            List<String> warnings) {
        String value = Json.text(domain, "firmware", field);
        if (value.isEmpty()) return;
        usersOf.apply(value).ifPresent(user -> replace(domain, at, field, fresh, " (used by " + user + ")", warnings));
    }

    private static void replace(
            ObjectNode domain, Field at, String field, Supplier<String> fresh, String because, List<String> warnings) {
        String old = Json.text(domain, "firmware", field);
        String value = fresh.get();
        at.put(value, "firmware", field);
        warnings.add("restore: " + field + " " + (old.isEmpty() ? "(none)" : old) + " -> " + value + because);
    }
}
