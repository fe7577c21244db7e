package dev.lockkeeper.certs.token;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;

/**
 * The clone-token key pair as two PEM files, {@code NAME} (private, 0600) and {@code NAME.pub},
 * generated on first use so every restart signs with the same key.
 */
public final class TokenKeyFiles {
    private TokenKeyFiles() {}

    public static KeyPair loadOrGenerate(Path privateKeyFile) throws IOException {
        Path publicKeyFile = publicKeyFile(privateKeyFile);
        if (Files.exists(privateKeyFile) && Files.exists(publicKeyFile)) {
            return new KeyPair(
                    Pem.decodePublicKey(Files.readString(publicKeyFile)),
                    Pem.decodePrivateKey(Files.readString(privateKeyFile)));
        }
        KeyPair keys = KeyPairs.newEd25519();
        if (privateKeyFile.getParent() != null) Files.createDirectories(privateKeyFile.getParent());
        Path temp = Files.createTempFile(privateKeyFile.toAbsolutePath().getParent(), ".token", ".tmp");
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(temp, Pem.encodePrivateKey(keys.getPrivate()));
        Files.writeString(publicKeyFile, Pem.encodePublicKey(keys.getPublic()));
        Files.move(temp, privateKeyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return keys;
    }

    public static Path publicKeyFile(Path privateKeyFile) {
        return privateKeyFile.resolveSibling(privateKeyFile.getFileName() + ".pub");
    }
}
