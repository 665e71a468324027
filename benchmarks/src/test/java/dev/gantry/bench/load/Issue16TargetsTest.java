package dev.gantry.bench.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 16's targets and the report's ceiling and memory columns, from a run's own numbers. */
class Issue16TargetsTest {
    private static Measurement closed(int concurrency, double throughput, long micros) {
        Histogram h = new Histogram(3);
        h.recordValueWithCount(micros, 100);
        return new Measurement("closed", 0, concurrency, 1.0, (long) throughput, (long) throughput, 0, Map.of(), h, h,
                0);
    }

    private static Measurement open(double rate, long micros) {
        Histogram h = new Histogram(3);
        h.recordValueWithCount(micros, 100);
        return new Measurement("open", rate, 0, 1.0, 100, 100, 0, Map.of(), h, h, 0);
    }

    private static Measurement inproc(int batch, double itemsPerSecond) {
        Histogram h = new Histogram(3);
        h.recordValue(1000);
        return new Measurement("inproc", 0, batch, 1.0, (long) itemsPerSecond, (long) itemsPerSecond, 0, Map.of(), h,
                h, 0);
    }

    private static String row(String markdown, String id) {
        return markdown.lines().filter(l -> l.startsWith("| " + id + " |")).findFirst()
                .orElseThrow(() -> new AssertionError("no target " + id + " in\n" + markdown));
    }

    private static final List<ArmResult> RUN = List.of(
            new ArmResult("direct", Workload.MLP, closed(1, 2000, 400)),
            new ArmResult("direct", Workload.MLP, closed(16, 10_000, 5000)),
            new ArmResult("direct", Workload.MLP, open(9000, 3000)),
            new ArmResult("ceiling", Workload.MLP, closed(16, 50_000, 300)),
            new ArmResult("gantry-batching", Workload.MLP, closed(1, 1500, 600)),
            new ArmResult("gantry-batching", Workload.MLP, closed(16, 30_000, 4000)),
            new ArmResult("gantry-batching", Workload.MLP, open(9000, 6000)),
            new ArmResult("gantry-access-log", Workload.MLP, closed(16, 27_000, 4500)),
            new ArmResult("gantry-batching", Workload.MINILM_16, closed(16, 95, 80_000)),
            new ArmResult("inproc", Workload.MINILM_16, inproc(8, 100)));

    private static ResidentMemory memory() {
        ResidentMemory m = new ResidentMemory();
        m.record("direct", 300 * 1024, 400 * 1024);
        m.record("gantry-batching", 450 * 1024, 700 * 1024);
        return m;
    }

    @Test
    void targets_compareGantryWithTheCeilingDirectAndInProcess_andMarkEachMetOrMissed() {
        String md = new Issue16Targets(RUN, Map.of(Workload.MLP, List.of(5000.0, 9000.0)), memory()).markdown();

        assertTrue(row(md, "16.1a").contains("0.60x") && row(md, "16.1a").endsWith("**met** |"), md);
        assertTrue(row(md, "16.1b").contains("3.00x") && row(md, "16.1b").endsWith("**met** |"), md);
        assertTrue(row(md, "16.2").contains("1.50x") && row(md, "16.2").endsWith("**missed** |"), md);
        assertTrue(row(md, "16.3").contains("0.80x") && row(md, "16.3").endsWith("**met** |"), md);
        assertTrue(row(md, "16.4").contains("1.75x (700 vs 400 MB)") && row(md, "16.4").endsWith("**missed** |"), md);
        assertTrue(row(md, "16.5").contains("9000/s") && row(md, "16.5").endsWith("**missed** |"), md);
        assertTrue(row(md, "16.6").contains("0.95x") && row(md, "16.6").endsWith("**met** |"), md);
        assertTrue(row(md, "16.7").contains("throughput 0.90x") && row(md, "16.7").endsWith("| measured |"), md);
    }

    @Test
    void targets_withoutTheirArms_areNotMeasured_neverMet() {
        String md = new Issue16Targets(List.of(new ArmResult("direct", Workload.MLP, closed(16, 1000, 100))),
                Map.of(), new ResidentMemory()).markdown();

        for (String id : List.of("16.1a", "16.1b", "16.2", "16.3", "16.4", "16.5", "16.6", "16.7")) {
            assertTrue(row(md, id).endsWith("| not measured |"), md);
        }
    }

    @Test
    void alternatingPairs_addARowBesideTheirTarget_withRoundsAndCpu_andTheirOwnStatus() {
        BuildComparison.Level mlp = new BuildComparison.Level(64, 20_000, 41_000, 1, 1, 2, 2, 50, 24.5,
                new double[] {2.1, 1.9, 2.05, 2.2}, new double[] {0.5, 0.5, 0.5, 0.5}, 0, 0);
        BuildComparison.Level minilm = new BuildComparison.Level(64, 200, 170, 300, 350, 400, 500, Double.NaN, 5800,
                new double[] {0.84, 0.86}, new double[] {1.2, 1.3}, 0, 0);
        BuildComparison.Level open = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1, 1, 1}, new double[] {0.4, 0.5, 0.6}, 0, 0);
        String md = new Issue16Targets(RUN, Map.of(), memory(), List.of(
                new Issue16Targets.Paired("16.1b", "MLP pair", mlp),
                new Issue16Targets.Paired("16.5", "open pair", open),
                new Issue16Targets.Paired("16.6", "MiniLM pair", minilm))).markdown();

        String b = row(md, "16.1b, alternating");
        assertTrue(b.contains("| MLP pair, median of 4 rounds | >= 2.0x | 2.05x (41000.0 vs 20000.0; rounds 2.10, "
                + "1.90, 2.05, 2.20; server CPU per request 0.49x) | **met** |"), b);
        String six = row(md, "16.6, alternating");
        assertTrue(six.contains("0.85x (170.0 vs 200.0; rounds 0.84, 0.86) | **missed** |"), six);
        assertTrue(row(md, "16.5, alternating").contains("| open pair, median of 3 rounds | gantry <= direct | 6.00 vs"
                + " 12.00 ms (0.50x; rounds 0.40, 0.50, 0.60) | **met** |"), md);
        assertTrue(md.indexOf("| 16.5, alternating |") == md.indexOf("\n", md.indexOf("| 16.5 |")) + 1, md);
        // the arms' own readings are unchanged, and each pair's row follows its target's
        assertTrue(row(md, "16.1b").contains("3.00x"), md);
        assertTrue(md.indexOf("| 16.1b, alternating |") == md.indexOf("\n", md.indexOf("| 16.1b |")) + 1, md);
        assertTrue(md.indexOf("| 16.6, alternating |") == md.indexOf("\n", md.indexOf("| 16.6 |")) + 1, md);
        assertTrue(md.contains("Rows marked \"alternating\""), md);
    }

    @Test
    void alternatingTail_withErrorsOrAWorseP99_isMissed() {
        BuildComparison.Level errors = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 0, 3);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                errors))).markdown(), "16.5, alternating").endsWith("0.50x; rounds 0.50), failed requests: 3 of "
                + "Gantry's, 0 of the direct server's | **missed** |"));
        // the direct server's failures are shown beside Gantry's; they alone do not make Gantry's reading missed
        BuildComparison.Level directFailed = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 7, 0);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                directFailed))).markdown(), "16.5, alternating").endsWith("0.50x; rounds 0.50), failed requests: 0 "
                + "of Gantry's, 7 of the direct server's | **met** |"));
        BuildComparison.Level worse = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 13.0, 80, 40,
                new double[] {1}, new double[] {1.08}, 0, 0);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                worse))).markdown(), "16.5, alternating").endsWith("| **missed** |"));
    }

    @Test
    void alternatingTail_withFailures_saysHowBusyTheGenerator_was_andStaysMissed() {
        BuildComparison.Level paced = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 0, 3, Double.NaN, Double.NaN, new double[0], 0.93);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                paced))).markdown(), "16.5, alternating").endsWith("failed requests: 3 of Gantry's, 0 of the direct "
                + "server's (the load generator used up to 93% of one CPU in those of Gantry's windows: it, not the "
                + "server, most likely set the pace) | **missed** |"));
        BuildComparison.Level idle = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 0, 3, Double.NaN, Double.NaN, new double[0], 0.62);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                idle))).markdown(), "16.5, alternating").endsWith("0 of the direct server's (the load generator used "
                + "up to 62% of one CPU in those of Gantry's windows) | **missed** |"));
        // the direct server's failures alone: nothing said of the generator in Gantry's windows
        BuildComparison.Level directOnly = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 5, 0, Double.NaN, Double.NaN, new double[0], 0.95);
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                directOnly))).markdown(), "16.5, alternating").endsWith("failed requests: 0 of Gantry's, 5 of the "
                + "direct server's | **met** |"));
        // without failures the generator is not mentioned
        BuildComparison.Level clean = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 0, 0, Double.NaN, Double.NaN, new double[0], 0.95);
        String row = row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.5", "p",
                clean))).markdown(), "16.5, alternating");
        assertFalse(row.contains("generator"), row);
        assertTrue(row.endsWith("| **met** |"), row);
    }

    @Test
    void alternatingP50_comparesTheMedianP50sAtOneClient_besideTheArmsReading() {
        BuildComparison.Level oneClient = new BuildComparison.Level(1, 9000, 9300, 0.098, 0.093, 0.2, 0.19, 90, 87,
                new double[] {1.03, 1.04}, new double[] {0.9, 1.0}, 0, 0, 0.0, 0.0, new double[] {0.96, 0.94});
        String md = new Issue16Targets(RUN, Map.of(), memory(), List.of(
                new Issue16Targets.Paired("16.2", "one-client pair", oneClient))).markdown();

        String two = row(md, "16.2, alternating");
        assertTrue(two.contains("| one-client pair, median of 2 rounds | gantry <= direct | 0.093 vs 0.098 ms (0.95x; "
                + "rounds 0.96, 0.94; the host stole 0% vs 0% of the server CPU) | **met** |"), two);
        // the arms' reading (600 vs 400 us) keeps its own row and status, and the pair's row follows it
        assertTrue(row(md, "16.2").endsWith("**missed** |"), md);
        assertTrue(md.indexOf("| 16.2, alternating |") == md.indexOf("\n", md.indexOf("| 16.2 |")) + 1, md);

        BuildComparison.Level slower = new BuildComparison.Level(1, 9000, 8800, 0.098, 0.101, 0.2, 0.19, 90, 92,
                new double[] {0.98}, new double[] {1.0}, 0, 0, 0.0, 0.0, new double[] {1.03});
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.2", "p",
                slower))).markdown(), "16.2, alternating").endsWith("(1.03x; rounds 1.03; the host stole 0% vs 0% of"
                + " the server CPU) | **missed** |"));
        BuildComparison.Level failed = new BuildComparison.Level(1, 9000, 9300, 0.098, 0.093, 0.2, 0.19, 90, 87,
                new double[] {1.03}, new double[] {0.9}, 0, 2, 0.0, 0.0, new double[] {0.95});
        assertTrue(row(new Issue16Targets(RUN, Map.of(), memory(), List.of(new Issue16Targets.Paired("16.2", "p",
                failed))).markdown(), "16.2, alternating").endsWith("failed requests: 2 of Gantry's, 0 of the direct "
                + "server's | **missed** |"));
    }

    @Test
    void alternatingRows_sayHowMuchOfTheServerCpuTheHostStoleFromEachSide() {
        BuildComparison.Level minilm = new BuildComparison.Level(64, 200, 180, 300, 350, 400, 500, Double.NaN, 5800,
                new double[] {0.9, 0.9}, new double[] {1.2, 1.3}, 0, 0, 0.09, 0.12);
        BuildComparison.Level open = new BuildComparison.Level(64, 9000, 9000, 0.2, 0.2, 12.0, 6.0, 80, 40,
                new double[] {1}, new double[] {0.5}, 0, 0, 0.3, 0.02);
        String md = new Issue16Targets(RUN, Map.of(), memory(), List.of(
                new Issue16Targets.Paired("16.5", "open pair", open),
                new Issue16Targets.Paired("16.6", "MiniLM pair", minilm))).markdown();

        assertTrue(row(md, "16.6, alternating").contains(
                "0.90x (180.0 vs 200.0; rounds 0.90, 0.90; the host stole 12% vs 9% of the server CPU) |"), md);
        assertTrue(row(md, "16.5, alternating").contains(
                "(0.50x; rounds 0.50; the host stole 2% vs 30% of the server CPU) | **met** |"), md);
    }

    @Test
    void withoutPairs_thereAreNoAlternatingRows() {
        String md = new Issue16Targets(RUN, Map.of(), memory()).markdown();
        assertTrue(!md.contains("alternating"), md);
    }

    @Test
    void summary_showsEachArmsShareOfTheCeiling_andItsResidentMemory() {
        String md = new Report("test", List.of("mode: test"), RUN, Map.of(), List.of(), List.of(), memory())
                .markdown("test.png");

        assertTrue(md.contains("| mlp | gantry-batching | 30000.0 | 3.00 | 0.60 | 450 | 700 |"), md);
        assertTrue(md.contains("| mlp | ceiling | 50000.0 | 5.00 | 1.00 |  |  |"), md);
    }
}
