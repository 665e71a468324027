package dev.gantry.store.artifact;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UploadResourcesTest {
    private static final Path DIR = Path.of("models");
    private static final long MiB = 1 << 20;

    @Test
    void shortfall_whenTheUploadFitsAboveTheFloor_isEmpty() {
        DiskSpace disk = dir -> 100 * MiB;

        assertEquals(Optional.empty(), disk.shortfall(DIR, 60 * MiB, 40 * MiB));
    }

    @Test
    void shortfall_whenTheUploadWouldEatIntoTheFloor_namesFreeNeededAndFloor() {
        DiskSpace disk = dir -> 100 * MiB;

        Optional<String> m = disk.shortfall(DIR, 61 * MiB, 40 * MiB);

        assertEquals(Optional.of("not enough disk space for this upload: 100 MiB free, the upload needs 61 MiB and"
                + " the server keeps 40 MiB free; free some space or retire old versions, then retry"), m);
    }

    @Test
    void shortfall_whenFreeSpaceCannotBeRead_refusesSayingWhy() {
        DiskSpace disk = dir -> {
            throw new IOException("no such file system");
        };

        assertTrue(disk.shortfall(DIR, 0, 0).orElseThrow().contains("no such file system"));
    }

    @Test
    void systemDiskSpace_readsTheRealFileSystem() throws IOException {
        assertTrue(DiskSpace.system().usableBytes(Path.of(".")) > 0);
    }

    @Test
    void uploadLimits_outOfRange_areRefusedWhenBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UploadLimits(0, Duration.ofSeconds(1), 0));

        assertEquals("maxConcurrent must be >= 1, was 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new UploadLimits(1, Duration.ZERO, 0));
        assertThrows(IllegalArgumentException.class, () -> new UploadLimits(1, Duration.ofSeconds(1), -1));
    }
}
