package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import java.util.ArrayList;
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

    /** Fixes the domain at {@code domainPath} of the restored VM or VMI {@code request} creates. */
    static Verdict fix(ReviewContext review, String... domainPath) {
        AdmissionRequest request = review.request();
        ObjectNode restored = request.object();
        Optional<VeleroRestore> restore = VeleroRestore.of(restored, review.cluster(), review.policy().restore().veleroNamespace());
        IdentityUsers users = new IdentityUsers(review.cluster(), request.objectNamespace(), request.objectName());
        ObjectNode changed = restored.deepCopy();
        List<String> warnings = new ArrayList<>();
        Optional<ObjectNode> domain = Json.objectAt(changed, domainPath);
        // What the Restore asks is done once per restore: a reinvocation must keep MACs that a later
        // webhook (kubemacpool) assigned after the first pass cleared them.
        Optional<VeleroRestore> pending = restore.filter(r -> !r.name().equals(Json.annotation(restored, RestoreKeys.IDENTITY_REGENERATED_FOR)));
        Optional<VeleroRestore> clearing = pending.filter(r -> r.asks(RestoreKeys.CLEAR_MAC_ADDRESS));
        Optional<VeleroRestore> regenerating = pending.filter(r -> r.asks(RestoreKeys.GENERATE_NEW_FIRMWARE_UUID));
        if (domain.isPresent()) {
            replaceMacs(domain.get(), clearing, users, warnings);
            if (regenerating.isPresent()) regenerateFirmware(domain.get(), regenerating.get(), warnings);
            else replaceUsedFirmware(domain.get(), users, warnings);
        }
        clearing.or(() -> regenerating).ifPresent(done -> Json.putAnnotation(changed, RestoreKeys.IDENTITY_REGENERATED_FOR, done.name()));
        return changed.equals(restored) ? Verdict.allow() : Verdict.mutated(changed, warnings);
    }

    private static void replaceMacs(ObjectNode domain, Optional<VeleroRestore> clearing, IdentityUsers users, List<String> warnings) {
        for (JsonNode node : Json.at(domain, "devices", "interfaces")) {
            if (!(node instanceof ObjectNode iface)) continue;
            String mac = Json.text(iface, "macAddress");
            if (mac.isEmpty()) continue;
            String where = " on interface " + Json.text(iface, "name");
            if (clearing.isPresent()) {
                iface.remove("macAddress");
                warnings.add("restore: cleared MAC " + mac + where + clearing.get().because(RestoreKeys.CLEAR_MAC_ADDRESS));
                continue;
            }
            Optional<String> user = users.ofMac(mac);
            if (user.isEmpty()) continue;
            String fresh = IdentityGenerator.mac(users);
            iface.put("macAddress", fresh);
            warnings.add("restore: MAC " + mac + " -> " + fresh + where + " (used by " + user.get() + ")");
        }
    }

    private static void regenerateFirmware(ObjectNode domain, VeleroRestore restore, List<String> warnings) {
        ObjectNode firmware = domain.withObject("/firmware");
        String because = restore.because(RestoreKeys.GENERATE_NEW_FIRMWARE_UUID);
        replace(firmware, "uuid", IdentityGenerator::uuid, because, warnings);
        if (firmware.has("serial")) replace(firmware, "serial", IdentityGenerator::serial, because, warnings);
    }

    private static void replaceUsedFirmware(ObjectNode domain, IdentityUsers users, List<String> warnings) {
        Optional<ObjectNode> found = Json.objectAt(domain, "firmware");
        if (found.isEmpty()) return;
        ObjectNode firmware = found.get();
        replaceIfUsed(firmware, "uuid", users::ofUuid, IdentityGenerator::uuid, warnings);
        replaceIfUsed(firmware, "serial", users::ofSerial, IdentityGenerator::serial, warnings);
    }

    private static void replaceIfUsed(ObjectNode firmware, String field, Function<String, Optional<String>> usersOf,
                                      Supplier<String> fresh, List<String> warnings) {
        String value = Json.text(firmware, field);
        if (value.isEmpty()) return;
        usersOf.apply(value).ifPresent(user -> replace(firmware, field, fresh, " (used by " + user + ")", warnings));
    }

    private static void replace(ObjectNode firmware, String field, Supplier<String> fresh, String because, List<String> warnings) {
        String old = Json.text(firmware, field);
        String value = fresh.get();
        firmware.put(field, value);
        warnings.add("restore: " + field + " " + (old.isEmpty() ? "(none)" : old) + " -> " + value + because);
    }
}
