package dev.lockkeeper.webhook.cluster.live;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.Pem;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.Map;

/**
 * The clone-token key pair kept in a Secret ({@code private.key}, {@code public.key}) so every
 * replica signs with the same key and the data mover can read the public half. Created on first
 * start; a concurrent creator's Secret wins and is re-read.
 */
public final class SecretTokenKey {
    static final String PRIVATE_KEY = "private.key";
    static final String PUBLIC_KEY = "public.key";

    private SecretTokenKey() {}

    public static KeyPair loadOrCreate(KubernetesClient client, String namespace, String name) {
        var secrets = client.secrets().inNamespace(namespace).withName(name);
        Secret existing = secrets.get();
        if (existing != null) return decode(existing);
        KeyPair keys = KeyPairs.newEd25519();
        Secret secret = new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .addToLabels("app.kubernetes.io/name", "lockkeeper")
                .endMetadata()
                .withType("Opaque")
                .withData(Map.of(
                        PRIVATE_KEY,
                        base64(Pem.encodePrivateKey(keys.getPrivate())),
                        PUBLIC_KEY,
                        base64(Pem.encodePublicKey(keys.getPublic()))))
                .build();
        try {
            client.secrets().inNamespace(namespace).resource(secret).create();
            return keys;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw e;
            return decode(secrets.get());
        }
    }

    private static KeyPair decode(Secret secret) {
        Map<String, String> data = secret.getData();
        if (data == null || !data.containsKey(PRIVATE_KEY) || !data.containsKey(PUBLIC_KEY)) {
            throw new IllegalStateException(
                    "Secret " + secret.getMetadata().getName() + " lacks " + PRIVATE_KEY + "/" + PUBLIC_KEY);
        }
        return new KeyPair(
                Pem.decodePublicKey(unbase64(data.get(PUBLIC_KEY))),
                Pem.decodePrivateKey(unbase64(data.get(PRIVATE_KEY))));
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String unbase64(String text) {
        return new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
    }
}
