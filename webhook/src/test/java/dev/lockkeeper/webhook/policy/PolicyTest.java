package dev.lockkeeper.webhook.policy;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyTest {
    final PolicyParser parser = new PolicyParser(Set.of("denier", "labeller"));

    @Test
    void parsesModesExclusionsAndThresholds() throws Exception {
        Policy policy = parser.parse("p.yaml", """
                apiVersion: lockkeeper.dev/v1
                kind: Policy
                excludedNamespaces: [sandbox]
                rules: {denier: warn, labeller: off}
                export: {minTokenLength: 20, maxTtl: 1h30m, exporterCreators: ["system:serviceaccount:virt:kubevirt-controller"]}
                restore: {markerLabels: [], markerAnnotations: [backup.example.com/restore], veleroNamespace: openshift-adp}
                """);
        assertEquals(EnforcementMode.WARN, policy.mode("denier"));
        assertEquals(EnforcementMode.OFF, policy.mode("labeller"));
        assertEquals(EnforcementMode.DENY, policy.mode("anything-else"));
        assertTrue(policy.excludes("sandbox"));
        assertFalse(policy.excludes(""));
        assertEquals(
                new Policy.Export(
                        20, Duration.ofMinutes(90), List.of("system:serviceaccount:virt:kubevirt-controller")),
                policy.export());
        assertEquals(List.of("backup.example.com/restore"), policy.restore().markerAnnotations());
        assertEquals("openshift-adp", policy.restore().veleroNamespace());
        assertEquals("velero", Policy.DEFAULT.restore().veleroNamespace());
        assertEquals(Policy.DEFAULT, parser.parse("empty.yaml", "# nothing set\n"));
    }

    static Stream<Arguments> invalidPolicies() {
        return Stream.of(
                Arguments.of(
                        "typo in a rule name",
                        "rules: {denyer: warn}",
                        "rules.denyer: no such rule (known: denier, labeller)"),
                Arguments.of(
                        "unknown mode",
                        "rules: {denier: block}",
                        "rules.denier: \"block\" is not a mode; use deny, warn or off"),
                Arguments.of("unknown top-level field", "exclude: [a]", "exclude: unknown field"),
                Arguments.of("wrong kind", "kind: ConfigMap", "kind must be Policy"),
                Arguments.of(
                        "token length not a number",
                        "export: {minTokenLength: many}",
                        "export.minTokenLength must be a whole number"),
                Arguments.of(
                        "token length zero",
                        "export: {minTokenLength: 0}",
                        "export.minTokenLength must be a whole number"),
                Arguments.of("bad duration", "export: {maxTtl: forever}", "export.maxTtl must be a positive duration"),
                Arguments.of("no restore markers", "restore: {markerLabels: []}", "restore needs at least one marker"),
                Arguments.of(
                        "bad velero namespace",
                        "restore: {veleroNamespace: Velero_NS}",
                        "restore.veleroNamespace must be a namespace name"),
                Arguments.of(
                        "namespaces not a list",
                        "excludedNamespaces: sandbox",
                        "excludedNamespaces must be a list of strings"),
                Arguments.of("not a mapping", "- a\n- b", "a policy must be a mapping"),
                Arguments.of("not YAML", "rules: {denier: [", "not valid YAML"),
                Arguments.of(
                        "default timeout too long",
                        "limits: {defaultTimeout: 31s}",
                        "limits.defaultTimeout must be above 0 and at most 30s"),
                Arguments.of(
                        "negative reserve", "limits: {answerReserve: -1s}", "limits.answerReserve must be a duration"),
                Arguments.of("unknown limit", "limits: {maxEverything: 1}", "limits.maxEverything: unknown field"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPolicies")
    void rejectsInvalidPoliciesNamingTheFileAndField(String name, String text, String message) {
        var e = assertThrows(PolicyException.class, () -> parser.parse("policy.yaml", text));
        assertTrue(e.getMessage().startsWith("policy.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void aReviewGetsTheApiServersTimeoutLessTheAnswerReserveButAtLeastHalfOfIt() throws Exception {
        Policy.Limits defaults = Policy.DEFAULT.limits();
        assertEquals(Duration.ofMillis(2500), defaults.budget(Duration.ofSeconds(3)));
        assertEquals(Duration.ofMillis(2500), defaults.budget(null), "no timeout on the URL: the default 3 s");
        assertEquals(Duration.ofMillis(1500), defaults.budget(Duration.ofSeconds(2)));
        assertEquals(Duration.ofMillis(500), defaults.budget(Duration.ofSeconds(1)));
        assertEquals(
                Duration.ofMillis(400),
                defaults.budget(Duration.ofMillis(800)),
                "half, when the reserve would leave less");
        assertEquals(
                Duration.ofMillis(29500), defaults.budget(Duration.ofMinutes(5)), "the API server allows at most 30 s");
        Policy.Limits configured = parser.parse("p", "limits: {defaultTimeout: 10s, answerReserve: 1s}")
                .limits();
        assertEquals(Duration.ofSeconds(9), configured.budget(null));
        assertEquals(Duration.ofSeconds(2), configured.budget(Duration.ofSeconds(3)));
    }

    @Test
    void reportsEveryProblemAtOnce() {
        var e = assertThrows(PolicyException.class, () -> parser.parse("p", "rules: {x: warn, denier: nope}\nfoo: 1"));
        assertTrue(
                e.getMessage().contains("rules.x")
                        && e.getMessage().contains("rules.denier")
                        && e.getMessage().contains("foo"),
                e.getMessage());
    }

    @Test
    void reloadInstallsValidChangesAndKeepsTheLastGoodPolicyOnErrors(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("policy.yaml"), "rules: {denier: warn}\n");
        PolicySource source = PolicySource.fromFile(file, parser);
        assertEquals(EnforcementMode.WARN, source.get().mode("denier"));
        assertFalse(source.reload(), "unchanged file");
        Files.writeString(file, "rules: {denier: off}\n");
        assertTrue(source.reload());
        assertEquals(EnforcementMode.OFF, source.get().mode("denier"));
        Files.writeString(file, "rules: {denier: sometimes}\n");
        assertFalse(source.reload());
        assertEquals(EnforcementMode.OFF, source.get().mode("denier"), "an invalid edit never replaces a valid policy");
        Files.delete(file);
        assertFalse(source.reload());
        assertEquals(EnforcementMode.OFF, source.get().mode("denier"));
    }

    @Test
    void aMissingOrInvalidPolicyFileAtStartupIsAnError(@TempDir Path dir) throws Exception {
        assertThrows(PolicyException.class, () -> PolicySource.fromFile(dir.resolve("absent.yaml"), parser));
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "rules: {denier: maybe}");
        assertThrows(PolicyException.class, () -> PolicySource.fromFile(bad, parser));
    }

    // The chain applies modes and exclusions for every rule, so each mode is tested once here.
    static final Match EVERY_DATAVOLUME = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);

    record Denier() implements AdmissionRule {
        @Override
        public String name() {
            return "denier";
        }

        @Override
        public Match match() {
            return EVERY_DATAVOLUME;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            AdmissionRequest request = review.request();
            return Verdict.invalid("not like this", Cause.invalid("spec", "not like this"));
        }
    }

    record Labeller() implements AdmissionRule {
        @Override
        public String name() {
            return "labeller";
        }

        @Override
        public Match match() {
            return EVERY_DATAVOLUME;
        }

        @Override
        public Verdict admit(ReviewContext review) {
            AdmissionRequest request = review.request();
            ObjectEdit edit = ObjectEdit.of(request.object());
            edit.put("yes", "metadata", "labels", "checked");
            return edit.verdict(List.of());
        }
    }

    Decision decide(AdmissionChain.Stage stage, String policy, AdmissionRule rule, String namespace) throws Exception {
        Policy parsed = parser.parse("p", policy);
        AdmissionRequest request =
                Reviews.createDataVolume(namespace, "{metadata: {name: disk, namespace: " + namespace + "}, spec: {}}");
        return new AdmissionChain(stage, List.of(rule), TestCluster.with(), RuleObserver.NONE, () -> parsed)
                .decide(request);
    }

    @Test
    void denyModeEnforces() throws Exception {
        assertFalse(decide(AdmissionChain.Stage.VALIDATING, "", new Denier(), "team-a")
                .allowed());
        assertTrue(decide(AdmissionChain.Stage.MUTATING, "", new Labeller(), "team-a")
                .patched());
    }

    @Test
    void warnModeTurnsDenialsAndPatchesIntoWarnings() throws Exception {
        Decision denial = decide(AdmissionChain.Stage.VALIDATING, "rules: {denier: warn}", new Denier(), "team-a");
        assertTrue(denial.allowed());
        assertEquals(List.of("denier (warn mode) would deny: not like this"), denial.warnings());
        Decision patch = decide(AdmissionChain.Stage.MUTATING, "rules: {labeller: warn}", new Labeller(), "team-a");
        assertTrue(patch.allowed());
        assertFalse(patch.patched());
        assertEquals(List.of("labeller (warn mode) would patch: add /metadata/labels"), patch.warnings());
    }

    @Test
    void offModeAndExcludedNamespacesSkipTheRule() throws Exception {
        Decision off = decide(AdmissionChain.Stage.VALIDATING, "rules: {denier: off}", new Denier(), "team-a");
        assertTrue(off.allowed());
        assertTrue(off.warnings().isEmpty());
        assertTrue(decide(AdmissionChain.Stage.VALIDATING, "excludedNamespaces: [sandbox]", new Denier(), "sandbox")
                .allowed());
        assertFalse(decide(AdmissionChain.Stage.VALIDATING, "excludedNamespaces: [sandbox]", new Denier(), "team-a")
                .allowed());
    }
}
