package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExportTokenTest {
    static String secret(String name, String token) {
        return "{apiVersion: v1, kind: Secret, metadata: {name: " + name + ", namespace: team-a}, data: {token: "
                + Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8)) + "}}";
    }

    static TestCluster secrets() {
        return TestCluster.with(
                secret("strong", "Zq81kLmP02xYvB7r"),
                secret("short", "abc123"),
                secret("symbols", "correct-horse-battery"),
                "{apiVersion: v1, kind: Secret, metadata: {name: other-key, namespace: team-a}, data: {password: eA==}}",
                "{apiVersion: v1, kind: Secret, metadata: {name: strong, namespace: team-b}, data: {token: eA==}}");
    }

    /** The requester may read Secrets here; the tests below that are about permission use their own cluster. */
    final TestCluster cluster = secrets().grant("secrets");

    static Decision export(TestCluster cluster, String secret, String policy) {
        return validate(
                cluster, createExport("v1", "PersistentVolumeClaim", "disk", ", tokenSecretRef: " + secret), policy);
    }

    Decision export(String secret, String policy) {
        return export(cluster, secret, policy);
    }

    @Test
    void acceptsAStrongTokenAndNoReferenceAtAll() {
        assertTrue(export("strong", "").allowed());
        assertTrue(validate(cluster, createExport("v1", "PersistentVolumeClaim", "disk", ""))
                .allowed());
    }

    @Test
    void theSecretMustExistInTheExportsNamespaceWithATokenKey() {
        Decision missing = export("nope", "");
        assertEquals(422, missing.code());
        assertEquals(
                "Secret team-a/nope named by tokenSecretRef does not exist; create it with a data key \"token\" first",
                missing.message());
        assertEquals("spec.tokenSecretRef", missing.causes().getFirst().field());
        assertEquals(
                "Secret team-a/other-key named by tokenSecretRef has no data key \"token\"",
                export("other-key", "").message());
    }

    @Test
    void refusesShortOrNonAlphanumericTokens() {
        assertEquals(
                "export token in Secret team-a/short is 6 characters, shorter than 12; use at least 12 random letters and digits",
                export("short", "").message());
        assertEquals(
                "export token in Secret team-a/symbols is not alphanumeric; use at least 12 random letters and digits",
                export("symbols", "").message());
        assertFalse(export("strong", "export: {minTokenLength: 20}").allowed(), "the threshold comes from the policy");
    }

    @Test
    void weakTokensCanBeDowngradedToAWarning() {
        Decision decision = export("short", "rules: {export-token-strength: warn}");
        assertTrue(decision.allowed());
        assertEquals(1, decision.warnings().size());
        assertTrue(decision.warnings()
                .getFirst()
                .startsWith("export-token-strength (warn mode) would deny: export token in Secret team-a/short"));
        assertFalse(
                export("nope", "rules: {export-token-strength: warn}").allowed(),
                "a missing Secret is a separate rule");
    }

    @Test
    void onlyARequesterWhoMayReadTheSecretLearnsAnythingAboutIt() {
        TestCluster noSecretAccess = secrets();
        String expected = "User carol may not get Secret team-a/%s named by tokenSecretRef; "
                + "its token downloads the exported disks, so reference a Secret you can read";
        for (String secret : new String[] {"short", "nope", "other-key", "strong"}) {
            Decision decision = export(noSecretAccess, secret, "rules: {export-token-strength: warn}");
            assertEquals(403, decision.code(), secret);
            assertEquals(
                    expected.formatted(secret),
                    decision.message(),
                    "the same answer whether it exists, has a token or is weak");
            assertTrue(decision.warnings().isEmpty(), "the strength rule says nothing either: " + decision.warnings());
        }
        var review = noSecretAccess.reviews().getFirst();
        assertEquals(
                List.of("carol", "team-a", "get", "", "secrets", "", "short"),
                List.of(
                        review.user(),
                        review.namespace(),
                        review.verb(),
                        review.group(),
                        review.resource(),
                        review.subresource(),
                        review.name()));
        assertEquals(List.of("system:authenticated"), review.groups());
    }

    @Test
    void anUnanswerableAccessReviewRefusesTheExport() {
        Decision decision = export(secrets().authorizationUnavailable(), "strong", "");
        assertEquals(403, decision.code());
        assertEquals(
                "whether carol may read Secret team-a/strong named by tokenSecretRef could not be checked "
                        + "(SubjectAccessReview failed: connection refused); refusing the export, retry shortly",
                decision.message());
    }
}
