package dev.gantry.bench.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's files, from synthetic measurements. */
class ReportTest {
    @TempDir
    Path dir;

    private static Measurement open(double rate, long p99Micros) {
        Histogram h = new Histogram(3);
        for (int i = 0; i < 99; i++) {
            h.recordValue(100);
        }
        h.recordValue(p99Micros);
        return new Measurement("open", rate, 0, 1.0, 100, 100, 0, Map.of(), h, h, 0);
    }

    private static Measurement closed(double throughput) {
        Histogram h = new Histogram(3);
        h.recordValue(1000);
        return new Measurement("closed", 0, 16, 1.0, (long) throughput, (long) throughput, 0, Map.of(), h, h, 0);
    }

    @Test
    void write_producesMarkdownCsvAndPng_withOneCsvRowPerMeasurement_forAnOddNumberOfCharts() throws Exception {
        List<ArmResult> results = List.of(
                new ArmResult("direct", Workload.MLP, closed(1000)),
                new ArmResult("direct", Workload.MLP, open(500, 5000)),
                new ArmResult("gantry-batching", Workload.MLP, closed(4000)),
                new ArmResult("gantry-batching", Workload.MLP, open(500, 2000)),
                new ArmResult("gantry-batching", Workload.LARGE_JSON, closed(10)),
                new ArmResult("gantry-batching", Workload.LARGE_BINARY, closed(200)),
                new ArmResult("gantry-batching", Workload.LARGE_BINARY, open(100, 3000)),
                new ArmResult("direct", Workload.MINILM_16, open(50, 9000)),
                new ArmResult("direct", Workload.MINILM_Q_16, open(50, 9000)),
                new ArmResult("inproc", Workload.MINILM_128, new Measurement("inproc", 0, 8, 1.0, 80, 80, 0,
                        Map.of(), open(1, 1).latency(), open(1, 1).latency(), 0)));
        Report report = new Report("test", List.of("mode: test"), results, Map.of(Workload.MLP, List.of(500.0)),
                List.of(), List.of("nothing skipped"));

        Path md = report.write(dir);

        String text = Files.readString(md);
        assertTrue(text.contains("| mlp | gantry-batching | 4000.0 | 4.00 |"), text);
        assertTrue(text.contains("binary extension reaches 20.00x"), text);
        assertEquals(results.size() + 1, Files.readAllLines(dir.resolve("test.csv")).size());
        assertTrue(Files.size(dir.resolve("test.png")) > 1000);
        assertTrue(Files.exists(dir.resolve("latest.md")));
    }

    @Test
    void hotSwapSection_namesEachWindowsLoadAndItsSlowestSlices() throws Exception {
        HotSwap.Result swap = new HotSwap.Result("classifier", 500, "2", "1", flat(500, 2000), flat(500, 5000),
                List.of(new HotSwap.Call(1, "POST rollback", 200, 4.2, "{}")), java.util.Optional.empty(),
                new HotSwap.Window("the server used 40.0 us of CPU per answer", List.of(
                        new Timeline.Slice(3.2, 50, 1.5, 9.25))),
                new HotSwap.Window("", List.of(new Timeline.Slice(1.0, 50, 12.0, 43.5),
                        new Timeline.Slice(7.1, 50, 2.0, 20.0))));
        Report report = new Report("swap", List.of("mode: test"), List.of(), Map.of(), List.of(swap), List.of());

        String text = Files.readString(report.write(dir));

        assertTrue(text.contains("- steady window: the server used 40.0 us of CPU per answer; its slowest 100 ms "
                + "slices of intended send time (seconds into the window): +3.2 s: max 9.3 ms, mean 1.50 ms\n"), text);
        assertTrue(text.contains("- swap window: its slowest 100 ms slices of intended send time (seconds into the "
                + "window): +1.0 s: max 43.5 ms, mean 12.00 ms; +7.1 s: max 20.0 ms, mean 2.00 ms\n"), text);
    }

    /** An open-loop run whose every latency is {@code micros}. */
    private static Measurement flat(double rate, long micros) {
        Histogram h = new Histogram(3);
        h.recordValueWithCount(micros, 100);
        return new Measurement("open", rate, 0, 1.0, 100, 100, 0, Map.of(), h, h, 0);
    }

    private static Measurement closedAt(int concurrency, double throughput, long p50Micros) {
        Histogram h = new Histogram(3);
        h.recordValue(p50Micros);
        return new Measurement("closed", 0, concurrency, 1.0, (long) throughput, (long) throughput, 0, Map.of(), h, h,
                0);
    }

    private static Measurement inproc(int batch, double itemsPerSecond, long p50Micros) {
        Histogram h = new Histogram(3);
        h.recordValue(p50Micros);
        return new Measurement("inproc", 0, batch, 1.0, (long) itemsPerSecond, (long) itemsPerSecond, 0, Map.of(), h,
                h, 0);
    }

    private static Measurement withErrors(Measurement m, long errors) {
        return new Measurement(m.mode(), m.targetRate(), m.concurrency(), m.elapsedSeconds(), m.sent() + errors,
                m.ok(), errors, Map.of("HttpClosedException", errors), m.latency(), m.serviceTime(), 0);
    }

    private static String row(String markdown, String id) {
        return markdown.lines().filter(l -> l.startsWith("| " + id + " |")).findFirst()
                .orElseThrow(() -> new AssertionError("no target " + id + " in\n" + markdown));
    }

    @Test
    void targets_areComputedFromTheRunsOwnNumbers_andMarkedMetOrMissed() {
        List<ArmResult> results = List.of(
                new ArmResult("direct", Workload.MLP, closed(1000)),
                new ArmResult("direct", Workload.MLP, flat(500, 5000)),
                new ArmResult("gantry-batching", Workload.MLP, closedAt(1, 2500, 180)),
                new ArmResult("gantry-batching", Workload.MLP, closed(4000)),
                new ArmResult("gantry-batching", Workload.MLP, flat(500, 2000)),
                new ArmResult("inproc", Workload.MLP, inproc(1, 20_000, 50)),
                new ArmResult("gantry-batching", Workload.MINILM_16, closed(95)),
                new ArmResult("inproc", Workload.MINILM_16, inproc(8, 100, 80_000)),
                new ArmResult("gantry-batching", Workload.MINILM_128, closed(20)),
                new ArmResult("inproc", Workload.MINILM_128, inproc(8, 30, 80_000)),
                new ArmResult("gantry-batching", Workload.LARGE_JSON, closed(10)),
                new ArmResult("gantry-batching", Workload.LARGE_BINARY, closed(200)));
        HotSwap.Result swap = new HotSwap.Result("classifier", 500, "2", "1", flat(500, 2000),
                withErrors(flat(500, 5000), 3), List.of(new HotSwap.Call(1, "POST rollback", 200, 4.2, "{}")),
                java.util.Optional.empty());

        String md = new Targets(results, Map.of(Workload.MLP, List.of(500.0)), List.of(swap)).markdown();

        assertTrue(row(md, "1a").contains("4.00x") && row(md, "1a").endsWith("**met** |"), md);
        assertTrue(row(md, "1b").contains("2.00 vs 5.00 ms") && row(md, "1b").endsWith("**met** |"), md);
        assertTrue(row(md, "2a").contains("0.95x") && row(md, "2a").endsWith("**met** |"), md);
        assertTrue(row(md, "2b").contains("0.67x") && row(md, "2b").endsWith("**missed** |"), md);
        assertTrue(row(md, "3").contains("130 us") && row(md, "3").endsWith("**missed** |"), md);
        assertTrue(row(md, "4").contains("20.00x") && row(md, "4").endsWith("**met** |"), md);
        assertTrue(row(md, "5a").contains("3 of") && row(md, "5a").endsWith("**missed** |"), md);
        assertTrue(row(md, "5b").contains("2.50x") && row(md, "5b").endsWith("**missed** |"), md);
    }

    @Test
    void hotSwapTail_whenTheGeneratorFellBehindInTheSteadyWindow_isNotMeasured() {
        Measurement steady = flat(500, 800_000);
        Histogram h = steady.latency();
        Measurement behind = new Measurement("open", 500, 0, 1.0, 110, 100, 10,
                Map.of(HttpLoadGenerator.CLIENT_BACKLOG, 10L), h, h, 0);
        HotSwap.Result swap = new HotSwap.Result("classifier", 500, "2", "1", behind, flat(500, 100_000),
                List.of(new HotSwap.Call(1, "POST rollback", 200, 4.2, "{}")), java.util.Optional.empty());

        String md = new Targets(List.of(), Map.of(), List.of(swap)).markdown();

        assertTrue(row(md, "5b").contains("0.12x") && row(md, "5b").contains("fell behind in the steady window (10 "),
                md);
        assertTrue(row(md, "5b").endsWith("| not measured |"), md);
        assertTrue(row(md, "5a").contains("0 of") && row(md, "5a").endsWith("**met** |"), md);
    }

    @Test
    void targets_withoutTheirInputs_areNotMeasured_neverMet() {
        String md = new Targets(List.of(new ArmResult("direct", Workload.MLP, closed(1000))), Map.of(), List.of())
                .markdown();

        for (String id : List.of("1a", "1b", "2a", "2b", "3", "4", "5a", "5b")) {
            assertTrue(row(md, id).endsWith("| not measured |"), md);
        }
    }
}
