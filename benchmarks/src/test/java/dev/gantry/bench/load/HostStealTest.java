package dev.gantry.bench.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The host's steal from the server CPUs: read from /proc/stat, per window, and in the report. */
class HostStealTest {
    @TempDir
    Path dir;

    /** A /proc/stat of two CPUs; the fields are user nice system idle iowait irq softirq steal guest guest_nice. */
    private static String procStat(long steal0, long steal1, long idle1) {
        return "cpu  300 0 100 " + (500 + idle1) + " 10 0 5 " + (steal0 + steal1) + " 40 0\n"
                + "cpu0 150 0 50 500 5 0 2 " + steal0 + " 20 0\n"
                + "cpu1 150 0 50 " + idle1 + " 5 0 3 " + steal1 + " 20 0\n"
                + "intr 12345 0 0\nctxt 999\nbtime 1700000000\nprocesses 42\n";
    }

    @Test
    void busy_countsUserNiceSystemIrqAndSoftirq_notIdleIowaitOrSteal() {
        // cpu0: 150 + 0 + 50 + 0 + 2 = 202; cpu1: 150 + 0 + 50 + 0 + 3 = 203, whatever their idle and steal
        assertEquals(202, HostSteal.busy(procStat(1, 7, 400), Set.of(0)));
        assertEquals(203, HostSteal.busy(procStat(1, 7, 900), Set.of(1)));
        assertEquals(405, HostSteal.busy(procStat(1, 7, 400), Set.of(0, 1)));
        assertEquals(300 + 100 + 5, HostSteal.busy(procStat(1, 7, 400), Set.of()));
        assertEquals(-1, HostSteal.busy(procStat(1, 7, 400), Set.of(5)));
        // irq (the sixth field) counts too
        assertEquals(10 + 20 + 30 + 40 + 50, HostSteal.busy("cpu0 10 20 30 999 888 40 50 777 0 0\n", Set.of(0)));
    }

    @Test
    void generatorLoad_describesItsCpuCollectionsAndItsCpusBusyShare() {
        var before = new GeneratorLoad.Snapshot(0, 1_000_000_000L, 100, 10, new HostSteal.Ticks(1000, 0), 300);
        var after = new GeneratorLoad.Snapshot(10_000_000_000L, 7_500_000_000L, 141, 13,
                new HostSteal.Ticks(2000, 0), 1260);
        assertEquals(0.65, GeneratorLoad.cpuShare(before, after), 1e-9);
        assertEquals("the generator used 65% of one CPU, its collectors ran 3 times for 41 ms; its CPU 0 was 96% busy",
                GeneratorLoad.describe(before, after, "CPU 0"));
        // no process CPU time and no /proc/stat: said, not made up
        var blind = new GeneratorLoad.Snapshot(0, -1, 0, 0, null, -1);
        var later = new GeneratorLoad.Snapshot(10_000_000_000L, -1, 0, 0, null, -1);
        assertTrue(Double.isNaN(GeneratorLoad.cpuShare(blind, later)));
        assertEquals("the generator's CPU time unknown, its collectors ran 0 times for 0 ms",
                GeneratorLoad.describe(blind, later, "CPU 0"));
    }

    @Test
    void parse_sumsTheFirstEightFieldsOfTheNamedCpus_notGuestTime() {
        // cpu1: 150 + 0 + 50 + 400 + 5 + 0 + 3 + 7 = 615 (guest's 20 is already in user)
        assertEquals(new HostSteal.Ticks(615, 7), HostSteal.parse(procStat(1, 7, 400), Set.of(1)));
        assertEquals(new HostSteal.Ticks(708 + 615, 8), HostSteal.parse(procStat(1, 7, 400), Set.of(0, 1)));
        // no CPUs named: the aggregate line, not the sum of the per-CPU ones counted twice
        assertEquals(new HostSteal.Ticks(300 + 100 + 900 + 10 + 5 + 8, 8),
                HostSteal.parse(procStat(1, 7, 400), Set.of()));
        assertNull(HostSteal.parse(procStat(1, 7, 400), Set.of(5)), "a CPU the machine does not have");
    }

    @Test
    void stolenSince_isTheShareOfTheTicksBetweenTwoReadings() {
        HostSteal.Ticks before = HostSteal.parse(procStat(0, 10, 400), Set.of(1));
        // 100 more ticks on CPU 1: 75 idle, 25 stolen
        HostSteal.Ticks after = HostSteal.parse(procStat(0, 35, 475), Set.of(1));
        assertEquals(0.25, after.stolenSince(before), 1e-9);
        assertTrue(Double.isNaN(after.stolenSince(null)));
        assertTrue(Double.isNaN(before.stolenSince(before)), "no ticks passed");
        assertEquals("25%", HostSteal.percent(0.25));
        assertEquals("unknown", HostSteal.percent(Double.NaN));
    }

    @Test
    void cpuSet_readsTasksetLists_andRefusesOthers() {
        assertEquals(Set.of(1), HostSteal.cpuSet("1"));
        assertEquals(Set.of(0, 1, 2, 3), HostSteal.cpuSet("0-3"));
        assertEquals(Set.of(1, 3, 4, 5), HostSteal.cpuSet("1, 3-5"));
        assertThrows(IllegalArgumentException.class, () -> HostSteal.cpuSet("3-1"));
        assertThrows(NumberFormatException.class, () -> HostSteal.cpuSet("one"));
    }

    @Test
    void recordAndSummary_giveTheMedianAndTheLargestWindowPerArmAndWorkload() {
        HostSteal steal = new HostSteal("1");
        assertEquals("CPU 1", steal.cpus());
        HostSteal.Ticks t0 = new HostSteal.Ticks(1000, 0);
        assertEquals(0.02, steal.record("gantry-batching", Workload.MLP, t0, new HostSteal.Ticks(1100, 2)), 1e-9);
        steal.record("gantry-batching", Workload.MLP, t0, new HostSteal.Ticks(1100, 30));
        steal.record("gantry-batching", Workload.MLP, t0, new HostSteal.Ticks(1100, 5));
        assertTrue(Double.isNaN(steal.record("gantry-batching", Workload.MLP, t0, null)), "an unreadable window");
        steal.record("direct", Workload.MLP, t0, new HostSteal.Ticks(1200, 0));

        assertEquals("5 (max 30)", steal.summary("gantry-batching", Workload.MLP));
        assertEquals("0 (max 0)", steal.summary("direct", Workload.MLP));
        assertEquals("", steal.summary("gantry-batching", Workload.MINILM_16), "no window of that workload");
    }

    @Test
    void now_readsThisMachinesCpus() {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")), "Linux only");
        HostSteal steal = new HostSteal("0");
        HostSteal.Ticks ticks = steal.now();
        assertNotNull(ticks);
        assertTrue(ticks.total() > 0 && ticks.stolen() >= 0 && ticks.stolen() <= ticks.total(), ticks.toString());
        assertNull(new HostSteal("100000").now(), "a CPU this machine does not have");
    }

    @Test
    void report_showsEachArmsStealBesideItsFigures() throws Exception {
        Histogram h = new Histogram(3);
        h.recordValue(1000);
        Measurement closed = new Measurement("closed", 0, 16, 1.0, 4000, 4000, 0, Map.of(), h, h, 0);
        HostSteal steal = new HostSteal("1");
        HostSteal.Ticks t0 = new HostSteal.Ticks(0, 0);
        steal.record("gantry-batching", Workload.MLP, t0, new HostSteal.Ticks(1000, 120));
        steal.record("direct", Workload.MLP, t0, new HostSteal.Ticks(1000, 10));
        Report report = new Report("steal", List.of("mode: test"), List.of(
                new ArmResult("direct", Workload.MLP, closed),
                new ArmResult("gantry-batching", Workload.MLP, closed)), Map.of(), List.of(), List.of())
                .withSteal(steal);

        String text = Files.readString(report.write(dir));

        assertTrue(text.contains("| RSS MB after run | % of CPU 1 stolen by the host |"), text);
        assertTrue(text.contains("| mlp | gantry-batching | 4000.0 | 1.00 |"), text);
        String row = text.lines().filter(l -> l.startsWith("| mlp | gantry-batching | 4000.0")).findFirst()
                .orElseThrow();
        assertTrue(row.endsWith(" 12 (max 12) |"), row);
        String direct = text.lines().filter(l -> l.startsWith("| mlp | direct | 4000.0")).findFirst().orElseThrow();
        assertTrue(direct.endsWith(" 1 (max 1) |"), direct);
    }
}
