package dev.lockkeeper.sidecar.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountTableTest {
    private static final List<String> MOUNTS = List.of(
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "35 22 0:31 / /var/lib/kubelet/pods/p/volumes/disk rw,relatime shared:9 - ext4 /dev/sdb rw",
            "36 22 0:32 / /data/with\\040space/inner rw,relatime - tmpfs tmpfs rw");

    @Test
    void aMountStrictlyBelowTheRootCounts() {
        assertTrue(MountTable.hasMountsBelow(Path.of("/var/lib/kubelet"), MOUNTS));
        assertTrue(MountTable.hasMountsBelow(Path.of("/data/with space"), MOUNTS), "octal escapes are decoded");
    }

    @Test
    void theRootBeingAMountPointItselfDoesNot() {
        assertFalse(MountTable.hasMountsBelow(Path.of("/var/lib/kubelet/pods/p/volumes/disk"), MOUNTS));
        assertFalse(MountTable.hasMountsBelow(Path.of("/var/lib/kubelet/pods/p/volumes/disk2"), MOUNTS));
        assertFalse(MountTable.hasMountsBelow(Path.of("/data/with"), MOUNTS), "a path prefix is not a parent");
    }

    @Test
    void anUnreadableLineMeansWeCannotTell() {
        assertTrue(MountTable.hasMountsBelow(Path.of("/srv"), List.of("garbage")));
    }

    @Test
    void unescapesOnlyWellFormedOctal() {
        assertEquals("/a b\tc\\d", MountTable.unescape("/a\\040b\\011c\\134d"));
        assertEquals("/odd\\09", MountTable.unescape("/odd\\09"));
    }

    @Test
    void readsThisMachinesOwnTable(@TempDir Path fresh) {
        assertTrue(MountTable.hasMountsBelow(Path.of("/")), "something is always mounted below / (proc at least)");
        assertFalse(MountTable.hasMountsBelow(fresh), "nothing is mounted below a fresh directory");
    }
}
