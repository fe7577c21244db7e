package dev.lockkeeper.controller.plan;

/**
 * Every object the controller makes for one copy is named after the target PVC's UID (the shared source holder after
 * the source PVC's UID), so a restarted controller finds what it made before instead of making it again.
 */
public final class Names {
    private Names() {}

    public static String prime(String targetUid) {
        return "prime-" + targetUid;
    }

    public static String targetHolder(String targetUid) {
        return "lk-dst-" + targetUid;
    }

    public static String sourceHolder(String sourceUid) {
        return "lk-src-" + sourceUid;
    }

    public static String task(String targetUid) {
        return targetUid;
    }

    /**
     * A node name as a label value: itself when it fits (63 characters), else {@code h-} and 40 hex digits of its
     * SHA-256, which the agent computes the same way to select its tasks.
     */
    public static String nodeLabel(String node) {
        if (node.length() <= 63 && node.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) return node;
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(node.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "h-" + java.util.HexFormat.of().formatHex(digest).substring(0, 40);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
