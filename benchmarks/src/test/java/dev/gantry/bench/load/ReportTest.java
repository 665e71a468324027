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
                List.of("nothing skipped"));

        Path md = report.write(dir);

        String text = Files.readString(md);
        assertTrue(text.contains("| mlp | gantry-batching | 4000.0 | 4.00 |"), text);
        assertTrue(text.contains("binary extension reaches 20.00x"), text);
        assertEquals(results.size() + 1, Files.readAllLines(dir.resolve("test.csv")).size());
        assertTrue(Files.size(dir.resolve("test.png")) > 1000);
        assertTrue(Files.exists(dir.resolve("latest.md")));
    }
}
