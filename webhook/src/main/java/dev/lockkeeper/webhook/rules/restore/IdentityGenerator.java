package dev.lockkeeper.webhook.rules.restore;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Fresh VM identities. MACs are locally administered unicast (first octet: bit 0x02 set, 0x01
 * clear), so they never collide with vendor-assigned addresses; retried while another VM uses
 * one. UUIDs are random v4. KubeVirt sets no serial of its own, so a serial is a random v4 UUID
 * too: unique and accepted by SMBIOS.
 */
final class IdentityGenerator {
    private static final SecureRandom RANDOM = new SecureRandom();

    private IdentityGenerator() {}

    static String mac(IdentityUsers users) {
        String mac;
        do {
            byte[] octets = new byte[6];
            RANDOM.nextBytes(octets);
            octets[0] = (byte) ((octets[0] | 0x02) & ~0x01);
            mac = HexFormat.ofDelimiter(":").formatHex(octets);
        } while (users.ofMac(mac).isPresent());
        return mac;
    }

    static String uuid() {
        return UUID.randomUUID().toString();
    }

    static String serial() {
        return UUID.randomUUID().toString();
    }
}
