package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.sidecar.agent.VolumeRef.KubeletVolume;
import dev.lockkeeper.sidecar.agent.VolumeRef.VolumeMode;
import dev.lockkeeper.sidecar.copy.Content;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TaskParserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String VALID = """
            {"apiVersion":"lockkeeper.dev/v1alpha1","kind":"CopyTask","metadata":{"name":"copy-1"},
             "spec":{"source":{"node":"node-a","address":"10.1.2.3:8444",
                               "volume":{"podUID":"0b9a4c1e-5f7d-4c1a-9e7b-2d3c4b5a6f70","pvName":"pvc-123","volumeMode":"Block"}},
                     "target":{"node":"node-b","path":"/srv/images/disk.img"},
                     "contentType":"kubevirt","preallocation":true,"maxRate":"100M","filesystemOverhead":0.055}}""";

    @Test
    void readsEveryField() throws Exception {
        CopyTask task = TaskParser.parse(JSON.readTree(VALID));
        assertEquals("copy-1", task.name());
        assertEquals(
                new KubeletVolume(
                        "0b9a4c1e-5f7d-4c1a-9e7b-2d3c4b5a6f70", "pvc-123", "kubernetes.io~csi", VolumeMode.BLOCK),
                task.source().volume());
        assertEquals("10.1.2.3:8444", task.source().address().orElseThrow());
        assertEquals(
                new VolumeRef.HostPath(Path.of("/srv/images/disk.img")),
                task.target().volume());
        assertEquals(Content.KUBEVIRT, task.content());
        assertTrue(task.preallocate());
        assertTrue(task.verify(), "verification is on unless a task turns it off");
        assertFalse(task.cancel());
        assertEquals(100L << 20, task.maxBytesPerSecond());
        assertEquals(0.055, task.filesystemOverhead());
        assertFalse(task.local());
    }

    /** Each row changes one field of the valid task (a JSON pointer) and names the refusal. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /kind                                  | "Pod"                       | not a task: expected apiVersion lockkeeper.dev/v1alpha1 and kind CopyTask
            /metadata/name                         | "Copy_1"                    | metadata.name must be a DNS-1123 name (lowercase letters, digits, '-' and '.', at most 253)
            /metadata/name                         | 7                           | metadata.name must be a string
            /spec/source/node                      | null                        | spec.source.node is required
            /spec/source/address                   | "10.1.2.3"                  | spec.source.address must be host:port
            /spec/source/volume/podUID             | "../../../etc"              | spec.source.volume.podUID must be a pod UID (lowercase UUID)
            /spec/source/volume/pvName             | "pvc/../../x"               | spec.source.volume.pvName must be a DNS-1123 name (lowercase letters, digits, '-' and '.', at most 253)
            /spec/source/volume/plugin             | "kubernetes.io~nfs"         | spec.source.volume.plugin must be one of kubernetes.io~csi, kubernetes.io~local-volume
            /spec/source/volume/volumeMode         | "block"                     | spec.source.volume.volumeMode must be Filesystem or Block
            /spec/source/volume/extra              | 1                           | spec.source.volume has an unknown field 'extra'
            /spec/source/path                      | "/srv/x"                    | spec.source needs exactly one of volume and path
            /spec/target/path                      | "/srv/../etc/shadow"        | spec.target.path must be an absolute path without . or .. parts
            /spec/target/path                      | "relative/disk.img"         | spec.target.path must be an absolute path without . or .. parts
            /spec/contentType                      | "tar"                       | spec.contentType must be kubevirt or archive
            /spec/preallocation                    | "yes"                       | spec.preallocation must be true or false
            /spec/filesystemOverhead               | 1.5                         | spec.filesystemOverhead must be at least 0 and below 1
            /spec/filesystemOverhead               | "0.1"                       | spec.filesystemOverhead must be a number
            /spec/maxRate                          | "0"                         | spec.maxRate must be at least 1 byte per second (omit it for no limit)
            /spec/maxRate                          | "fast"                      | spec.maxRate: not a size: 'fast' (examples: 4096, 64K, 100M, 1.5G)
            /spec/verfiy                           | false                       | spec has an unknown field 'verfiy'
            /spec/target                           | []                          | spec.target must be an object
            """)
    void refuses(String pointer, String json, String message) throws Exception {
        ObjectNode task = (ObjectNode) JSON.readTree(VALID);
        JsonNode value = JSON.readTree(json);
        int slash = pointer.lastIndexOf('/');
        ObjectNode parent = (ObjectNode) task.at(pointer.substring(0, slash));
        parent.set(pointer.substring(slash + 1), value);
        TaskRejected refused = assertThrows(TaskRejected.class, () -> TaskParser.parse(task));
        assertEquals(message, refused.getMessage());
    }

    @Test
    void blockVolumesNeedCsi() throws Exception {
        ObjectNode task = (ObjectNode) JSON.readTree(VALID);
        ((ObjectNode) task.at("/spec/source/volume")).put("plugin", "kubernetes.io~local-volume");
        assertEquals(
                "spec.source.volume: block volumes are only supported for CSI (plugin kubernetes.io~csi)",
                assertThrows(TaskRejected.class, () -> TaskParser.parse(task)).getMessage());
    }

    @Test
    void notAnObject() throws Exception {
        assertEquals(
                "the task must be an object",
                assertThrows(TaskRejected.class, () -> TaskParser.parse(JSON.readTree("[1]")))
                        .getMessage());
    }
}
