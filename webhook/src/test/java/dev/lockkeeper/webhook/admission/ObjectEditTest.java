package dev.lockkeeper.webhook.admission;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.support.TestCluster;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each edit is one JSON Patch operation that, applied to the original, gives the edited copy. */
class ObjectEditTest {
    final ObjectNode original = TestCluster.yaml("""
            {metadata: {name: web, annotations: {a/b~c: old, keep: x}}, spec: {items: [{mac: m0}, {mac: m1}], text: "t"}}
            """);

    void assertPatchGivesTheCopy(ObjectEdit edit, String operations) {
        Verdict.Allow allow = edit.verdict(List.of());
        assertEquals(operations, allow.patch().toString());
        assertEquals(allow.mutated(), JsonPatch.apply(allow.patch(), original));
        assertEquals(
                TestCluster.yaml(
                        "{metadata: {name: web, annotations: {a/b~c: old, keep: x}}, spec: {items: [{mac: m0}, {mac: m1}], text: \"t\"}}"),
                original,
                "the original is never changed");
    }

    @Test
    void replacesAddsAndRemovesWithEscapedPaths() {
        ObjectEdit edit = ObjectEdit.of(original);
        edit.put("new", "metadata", "annotations", "a/b~c");
        edit.put("m9", "spec", "items", "1", "mac");
        edit.remove("metadata", "annotations", "keep");
        edit.put("added", "metadata", "annotations", "fresh");
        assertPatchGivesTheCopy(
                edit,
                "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/a~1b~0c\",\"value\":\"new\"},"
                        + "{\"op\":\"replace\",\"path\":\"/spec/items/1/mac\",\"value\":\"m9\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/annotations/keep\"},"
                        + "{\"op\":\"add\",\"path\":\"/metadata/annotations/fresh\",\"value\":\"added\"}]");
    }

    @Test
    void missingParentsAreAddedInOneOperation() {
        ObjectEdit edit = ObjectEdit.of(original);
        edit.put("uuid-1", "spec", "domain", "firmware", "uuid");
        assertPatchGivesTheCopy(
                edit, "[{\"op\":\"add\",\"path\":\"/spec/domain\",\"value\":{\"firmware\":{\"uuid\":\"uuid-1\"}}}]");
    }

    @Test
    void aValueRemovedAndPutBackIsOneReplace() {
        ObjectEdit edit = ObjectEdit.of(original);
        edit.remove("metadata", "annotations", "keep");
        edit.remove("metadata", "annotations", "a/b~c");
        edit.put("y", "metadata", "annotations", "keep");
        assertPatchGivesTheCopy(
                edit,
                "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/keep\",\"value\":\"y\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/annotations/a~1b~0c\"}]");
    }

    @Test
    void unchangedValuesAndAbsentFieldsRecordNothing() {
        ObjectEdit edit = ObjectEdit.of(original);
        edit.put("old", "metadata", "annotations", "a/b~c");
        edit.remove("metadata", "labels", "absent");
        edit.remove("spec", "nothing");
        assertFalse(edit.changed());
        Verdict.Allow allow = edit.verdict(List.of("w"));
        assertNull(allow.mutated());
        assertNull(allow.patch());
    }

    @Test
    void aFieldOfTheWrongTypeOnTheWayIsAWrongTypeFailureNamingIt() {
        ObjectEdit edit = ObjectEdit.of(original);
        var failure = assertThrows(UnsupportedOperationException.class, () -> edit.put("u", "spec", "text", "uuid"));
        Decision decision = WrongType.decision("some-rule", failure);
        assertEquals(422, decision.code());
        assertEquals(
                "field \"text\" has the wrong type for rule some-rule (it reads an object or a list there)",
                decision.message());
    }
}
