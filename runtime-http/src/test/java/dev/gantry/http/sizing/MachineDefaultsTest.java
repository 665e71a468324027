package dev.gantry.http.sizing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The derivation of pools and heap from cores and memory, and the README's table of it. */
class MachineDefaultsTest {
    private static final long GB = 1L << 30;

    @ParameterizedTest(name = "{0} cores, {1} GB: event loops {2}, workers {3}, intra-op {4}, heap {5} MB")
    @CsvSource({
            "1, 24, 1, 2, 1, 384",
            "2, 24, 1, 2, 1, 512",
            "8, 32, 4, 4, 2, 1280",
            "32, 128, 16, 16, 8, 4096",
            "128, 512, 64, 64, 8, 4096",
            "4, 1, 2, 2, 1, 256"})
    void derive_scalesEachPoolWithTheCores(int cores, int memoryGb, int loops, int workers, int intraOp, long heapMb) {
        MachineDefaults d = MachineDefaults.derive(cores, memoryGb * GB);
        assertEquals(loops, d.eventLoops());
        assertEquals(workers, d.workerThreads());
        assertEquals(intraOp, d.intraOpThreads());
        assertEquals(1, d.interOpThreads());
        assertEquals(heapMb, d.heapMegabytes());
    }

    @Test
    void derive_neverGivesTheHeapMoreThanAQuarterOfTheMemoryAboveTheFloor() {
        assertEquals(512, MachineDefaults.derive(16, 2 * GB).heapMegabytes());
        assertEquals(256, MachineDefaults.derive(16, GB / 2).heapMegabytes());
    }

    @Test
    void heapOption_isAnXmxInMegabytes() {
        assertEquals("-Xmx512m", MachineDefaults.derive(2, 24 * GB).heapOption());
    }

    @Test
    void parseCpuMax_readsAQuotaAsCpus() {
        assertEquals(Optional.of(1.5), Machine.parseCpuMax("150000 100000\n"));
    }

    @Test
    void parseCpuMax_withoutALimit_isEmpty() {
        assertFalse(Machine.parseCpuMax("max 100000\n").isPresent());
    }

    @Test
    void current_seesTheCoresTheJvmReports() {
        Machine m = Machine.current();
        assertEquals(Runtime.getRuntime().availableProcessors(), m.cores());
        assertTrue(m.memoryBytes() > 0);
    }

    /**
     * The README's Performance section has a table "| cores | memory | event loops | worker threads | ORT intra-op
     * threads | ORT inter-op threads | heap |"; every row must be what {@link MachineDefaults#derive} gives.
     */
    @Test
    void readmeSizingTable_isWhatDeriveComputes() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
        int header = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("| cores | memory | event loops |")) {
                header = i;
            }
        }
        assertTrue(header >= 0, "README has no sizing table");
        List<String> rows = new ArrayList<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            rows.add(lines.get(i));
        }
        assertEquals(3, rows.size(), "the table shows 2, 8 and 32 cores");
        for (String row : rows) {
            String[] c = row.split("\\|");
            int cores = Integer.parseInt(c[1].trim().split(" ")[0]);
            long memoryGb = Long.parseLong(c[2].trim().replace(" GB", ""));
            MachineDefaults d = MachineDefaults.derive(cores, memoryGb * GB);
            String expected = String.format("| %s | %d GB | %d | %d | %d | %d | %d MB |", c[1].trim(), memoryGb,
                    d.eventLoops(), d.workerThreads(), d.intraOpThreads(), d.interOpThreads(), d.heapMegabytes());
            assertEquals(expected, row.trim());
        }
    }

    @Test
    void jitOptions_areWhatTheLauncherAndTheImageGiveTheServer() throws Exception {
        String launcher = Files.readString(Path.of("..", "gantry"));
        String entrypoint = Files.readString(Path.of("..", "docker", "entrypoint.sh"));
        assertFalse(MachineDefaults.JIT_OPTIONS.isEmpty());
        for (String option : MachineDefaults.JIT_OPTIONS) {
            assertTrue(launcher.contains(" " + option + "\n") || launcher.contains(" " + option + " "),
                    option + " missing from the launcher's java command");
            assertTrue(entrypoint.contains(" " + option + " "), option + " missing from docker/entrypoint.sh");
        }
    }
}
