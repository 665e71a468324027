package dev.gantry.bench.load;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Writes a load run's results as a markdown report, a CSV file and a throughput-vs-p99 PNG chart. */
final class Report {
    private final String stamp;
    private final List<String> header;
    private final List<ArmResult> results;
    private final Map<Workload, List<Double>> referenceRates;
    private final List<HotSwap.Result> hotSwaps;
    private final List<String> notes;
    private final ResidentMemory memory;
    private List<Issue16Targets.Paired> paired = List.of();
    private HostSteal steal;

    /**
     * @param header lines describing the run (mode, machine, pinning), printed first
     * @param referenceRates per workload, the open-loop rates every arm was driven at (from the direct arm)
     * @param hotSwaps what the hot swap arm observed, if it ran
     * @param notes what was skipped or failed, and why
     */
    Report(String stamp, List<String> header, List<ArmResult> results, Map<Workload, List<Double>> referenceRates,
           List<HotSwap.Result> hotSwaps, List<String> notes) {
        this(stamp, header, results, referenceRates, hotSwaps, notes, new ResidentMemory());
    }

    /** As above, with each server's resident memory after warm-up and after its run. */
    Report(String stamp, List<String> header, List<ArmResult> results, Map<Workload, List<Double>> referenceRates,
           List<HotSwap.Result> hotSwaps, List<String> notes, ResidentMemory memory) {
        this.memory = memory;
        this.stamp = stamp;
        this.header = header;
        this.results = results;
        this.referenceRates = referenceRates;
        this.hotSwaps = hotSwaps;
        this.notes = notes;
    }

    /** The ratio targets measured again in alternating windows, shown beside the arms' readings. */
    Report withPaired(List<Issue16Targets.Paired> paired) {
        this.paired = List.copyOf(paired);
        return this;
    }

    /** The host's steal from the server CPUs in each arm's measured windows, as a column of the summary. */
    Report withSteal(HostSteal steal) {
        this.steal = steal;
        return this;
    }

    /** Writes {@code <stamp>.md/.csv/.png} into {@code dir} and copies them to {@code latest.*}; returns the md. */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path md = dir.resolve(stamp + ".md");
        Path csv = dir.resolve(stamp + ".csv");
        Path png = dir.resolve(stamp + ".png");
        Files.writeString(md, markdown(png.getFileName().toString()));
        Files.writeString(csv, csv());
        chart(png);
        for (Path p : List.of(md, csv, png)) {
            if (Files.exists(p)) {
                String ext = p.getFileName().toString().substring(stamp.length());
                Files.copy(p, dir.resolve("latest" + ext), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return md;
    }

    String markdown(String pngName) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Gantry load benchmark ").append(stamp).append("\n\n");
        sb.append(new Targets(results, referenceRates, hotSwaps).markdown());
        sb.append(new Issue16Targets(results, referenceRates, memory, paired).markdown());
        header.forEach(h -> sb.append("- ").append(h).append('\n'));
        sb.append("\n![throughput vs p99](").append(pngName).append(")\n\n");
        summary(sb);
        sb.append(IsolationArm.comparison(results));
        hotSwapSection(sb);
        for (Workload w : workloads()) {
            sb.append("## ").append(w.label()).append(" (model `").append(w.model()).append("`)\n\n");
            sb.append("| arm | mode | target req/s | concurrency | achieved req/s | p50 ms | p90 ms | p99 ms "
                    + "| p99.9 ms | max ms | p99 service ms | ok | errors | error kinds |\n");
            sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
            for (ArmResult r : results) {
                if (r.workload() != w || r.measurement().mode().equals("inproc")) {
                    continue;
                }
                Measurement m = r.measurement();
                sb.append(String.format(Locale.ROOT,
                        "| %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %d | %d | %s |%n",
                        r.arm(), r.phase().isEmpty() ? m.mode() : m.mode() + " (" + r.phase() + ")",
                        m.mode().equals("open") ? String.format(Locale.ROOT, "%.1f", m.targetRate())
                                : "", m.concurrency() > 0 ? Integer.toString(m.concurrency()) : "", m.throughput(),
                        ms(m.percentileMillis(50)), ms(m.percentileMillis(90)), ms(m.percentileMillis(99)),
                        ms(m.percentileMillis(99.9)), ms(m.maxMillis()), ms(m.serviceTimePercentileMillis(99)),
                        m.ok(), m.errors(), kinds(m)));
            }
            sb.append('\n');
        }
        List<ArmResult> inproc = results.stream().filter(r -> r.measurement().mode().equals("inproc")).toList();
        if (!inproc.isEmpty()) {
            sb.append("## In-process ONNX Runtime (no HTTP, one thread, batches built in advance)\n\n");
            sb.append("| workload | batch | items/s | call p50 ms | call p99 ms |\n|---|---:|---:|---:|---:|\n");
            for (ArmResult r : inproc) {
                Measurement m = r.measurement();
                sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %s | %s |%n", r.workload().label(),
                        m.concurrency(), m.throughput(), ms(m.percentileMillis(50)), ms(m.percentileMillis(99))));
            }
            sb.append('\n');
        }
        sb.append("## Not measured, skipped or failed\n\n");
        notes.forEach(n -> sb.append("- ").append(n).append('\n'));
        return sb.toString();
    }

    private void summary(StringBuilder sb) {
        sb.append("## Summary\n\n");
        sb.append("Max throughput is the best closed-loop (or, in-process, best-batch) rate; ratios are against the "
                + "direct-call server on the same workload in this run. p99 at the reference rates is open-loop, "
                + "coordinated-omission corrected, at the same offered load for every arm (fractions of the "
                + "direct server's max).\n\n");
        sb.append("| workload | arm | max req/s | x direct |");
        int refs = referenceRates.values().stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < refs; i++) {
            sb.append(" p99 ms @ ref ").append(i + 1).append(" | x direct |");
        }
        sb.append(" x ceiling | RSS MB after warm-up | RSS MB after run |");
        if (steal != null) {
            sb.append(" % of ").append(steal.cpus()).append(" stolen by the host |");
        }
        sb.append("\n|---|---|---:|---:|");
        sb.append("---:|---:|".repeat(refs));
        sb.append(steal != null ? "---:|---:|---:|---:|\n" : "---:|---:|---:|\n");
        for (Workload w : workloads()) {
            Map<String, Double> max = new LinkedHashMap<>();
            for (ArmResult r : results) {
                if (r.workload() == w && !r.measurement().mode().equals("open")) {
                    max.merge(r.arm(), r.measurement().throughput(), Math::max);
                }
            }
            Double direct = max.get("direct");
            Double ceiling = max.get(Issue16Arms.CEILING);
            List<Double> rates = referenceRates.getOrDefault(w, List.of());
            for (Map.Entry<String, Double> e : max.entrySet()) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s |", w.label(), e.getKey(), e.getValue(),
                        direct == null || direct == 0 ? "" : String.format(Locale.ROOT, "%.2f", e.getValue() / direct)));
                for (int i = 0; i < refs; i++) {
                    if (i >= rates.size() || e.getKey().equals("inproc")) {
                        sb.append(" | |");
                        continue;
                    }
                    double p99 = p99At(e.getKey(), w, rates.get(i));
                    double base = p99At("direct", w, rates.get(i));
                    sb.append(String.format(Locale.ROOT, " %s (%.1f/s) | %s |", ms(p99), rates.get(i),
                            Double.isNaN(p99) || Double.isNaN(base) ? "" : String.format(Locale.ROOT, "%.2f", p99 / base)));
                }
                sb.append(String.format(Locale.ROOT, " %s | %s | %s |", ceiling == null || ceiling == 0
                                || e.getKey().equals("inproc") ? ""
                                : String.format(Locale.ROOT, "%.2f", e.getValue() / ceiling),
                        memory.afterWarmupMb(e.getKey()), memory.afterRunMb(e.getKey())));
                if (steal != null) {
                    sb.append(' ').append(steal.summary(e.getKey(), w)).append(" |");
                }
                sb.append('\n');
            }
        }
        sb.append('\n');
        for (String arm : results.stream().map(ArmResult::arm).distinct().toList()) {
            double json = maxOf(arm, Workload.LARGE_JSON);
            double binary = maxOf(arm, Workload.LARGE_BINARY);
            if (json > 0 && binary > 0) {
                sb.append(String.format(Locale.ROOT, "600 KB FP32 tensor on %s: the binary extension reaches %.2fx "
                        + "the JSON max throughput (%.1f vs %.1f req/s).%n%n", arm, binary / json, binary, json));
            }
            transports(sb, arm);
        }
    }

    /**
     * The MLP request over the three transports of one arm (HTTP JSON, HTTP binary, gRPC): max throughput and the
     * closed-loop p99 at the fewest and the most clients, each as a ratio to JSON of the same run.
     */
    private void transports(StringBuilder sb, String arm) {
        List<Workload> ws = List.of(Workload.MLP, Workload.MLP_BINARY, Workload.MLP_GRPC);
        double json = maxOf(arm, Workload.MLP);
        if (json <= 0 || ws.stream().skip(1).noneMatch(w -> maxOf(arm, w) > 0)) {
            return;
        }
        List<Integer> levels = results.stream().filter(r -> r.arm().equals(arm) && r.workload() == Workload.MLP
                && r.measurement().mode().equals("closed")).map(r -> r.measurement().concurrency()).sorted().toList();
        int few = levels.getFirst();
        int many = levels.getLast();
        sb.append("MLP transports on ").append(arm).append(" (closed loop):\n\n")
                .append(String.format(Locale.ROOT, "| transport | max req/s | vs JSON | p99 at %d | p99 at %d |%n",
                        few, many))
                .append("|---|---|---|---|---|\n");
        for (Workload w : ws) {
            double max = maxOf(arm, w);
            if (max <= 0) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.2fx | %s | %s |%n", w.label(), max, max / json,
                    ms(closedP99(arm, w, few)), ms(closedP99(arm, w, many))));
        }
        sb.append('\n');
    }

    private double closedP99(String arm, Workload w, int concurrency) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == w
                        && r.measurement().mode().equals("closed") && r.measurement().concurrency() == concurrency
                        && r.measurement().errors() == 0)
                .mapToDouble(r -> r.measurement().percentileMillis(99)).findFirst().orElse(Double.NaN);
    }

    private void hotSwapSection(StringBuilder sb) {
        for (HotSwap.Result r : hotSwaps) {
            sb.append("## Hot swap and rollback (model `").append(r.model()).append("`)\n\n");
            if (r.steady() == null || r.swap() == null) {
                sb.append("Not run: ").append(r.error().orElse("unknown reason")).append("\n\n");
                continue;
            }
            sb.append(String.format(Locale.ROOT, "Open loop at %.1f req/s (half the closed-loop max, at most %d): a steady window, "
                    + "then a swap window in which traffic moved from version %s to version %s in steps and was "
                    + "rolled back to the starting revision. Rollback wall time: %s ms.%n%n", r.rate(),
                    LoadBenchmark.HOT_SWAP_MAX_RATE, r.from(),
                    r.to(), ms(r.rollbackMillis())));
            sb.append("| window | s | sent | ok | errors | p50 ms | p99 ms | p99.9 ms | max ms | answers per version |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
            for (Map.Entry<String, Measurement> e : List.of(Map.entry("steady", r.steady()), Map.entry("swap", r.swap()))) {
                Measurement m = e.getValue();
                sb.append(String.format(Locale.ROOT, "| %s | %.1f | %d | %d | %d%s | %s | %s | %s | %s | %s |%n", e.getKey(),
                        m.elapsedSeconds(), m.sent(), m.ok(), m.errors(), m.errorKinds().isEmpty() ? ""
                                : " (" + kinds(m) + ")", ms(m.percentileMillis(50)), ms(m.percentileMillis(99)),
                        ms(m.percentileMillis(99.9)), ms(m.maxMillis()), m.servedBy().entrySet().stream()
                                .map(v -> "v" + v.getKey() + ": " + v.getValue()).collect(Collectors.joining(", "))));
            }
            sb.append("\n| at s | admin call | status | wall ms | answer |\n|---:|---|---:|---:|---|\n");
            for (HotSwap.Call c : r.calls()) {
                sb.append(String.format(Locale.ROOT, "| %.1f | `%s` | %d | %.1f | %s |%n", c.atSeconds(), c.what(),
                        c.status(), c.millis(), c.answer()));
            }
            for (Map.Entry<String, HotSwap.Window> e : List.of(Map.entry("steady", r.steadyWindow()),
                    Map.entry("swap", r.swapWindow()))) {
                HotSwap.Window w = e.getValue();
                if (!w.load().isEmpty() || !w.slowest().isEmpty()) {
                    sb.append("\n- ").append(e.getKey()).append(" window: ")
                            .append(w.load().isEmpty() ? "" : w.load() + "; ")
                            .append("its slowest 100 ms slices of intended send time (seconds into the window): ")
                            .append(w.slowest().stream().map(Timeline.Slice::toString)
                                    .collect(Collectors.joining("; ")));
                }
            }
            sb.append('\n');
            r.error().ifPresent(e -> sb.append("\n").append(e).append('\n'));
            sb.append('\n');
        }
    }

    private double maxOf(String arm, Workload w) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == w
                        && r.measurement().mode().equals("closed"))
                .mapToDouble(r -> r.measurement().throughput()).max().orElse(0);
    }

    private double p99At(String arm, Workload w, double rate) {
        return results.stream()
                .filter(r -> r.arm().equals(arm) && r.workload() == w && r.measurement().mode().equals("open")
                        && r.phase().isEmpty() && r.measurement().targetRate() == rate
                        && r.measurement().errors() == 0)
                .mapToDouble(r -> r.measurement().percentileMillis(99)).findFirst().orElse(Double.NaN);
    }

    String csv() {
        StringBuilder sb = new StringBuilder("run,arm,workload,model,mode,target_rate,concurrency,elapsed_s,sent,ok,"
                + "errors,error_kinds,throughput,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,service_p50_ms,service_p99_ms,"
                + "max_send_lag_ms,phase\n");
        for (ArmResult r : results) {
            Measurement m = r.measurement();
            sb.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%s,%.3f,%d,%.3f,%d,%d,%d,%s,%.3f,%s,%s,%s,%s,%s,%s,%s,%.3f,%s%n",
                    stamp, r.arm(), r.workload().label(), r.workload().model(), m.mode(), m.targetRate(),
                    m.concurrency(), m.elapsedSeconds(), m.sent(), m.ok(), m.errors(), kinds(m).replace(',', ';'),
                    m.throughput(), ms(m.percentileMillis(50)), ms(m.percentileMillis(90)),
                    ms(m.percentileMillis(99)), ms(m.percentileMillis(99.9)), ms(m.maxMillis()),
                    ms(m.serviceTimePercentileMillis(50)), ms(m.serviceTimePercentileMillis(99)),
                    m.maxSendLagMicros() / 1000.0, r.phase()));
        }
        return sb.toString();
    }

    /**
     * One chart per workload (JSON and binary bodies of the 600 KB tensor share one): for each arm, open-loop
     * achieved throughput against p99, both axes logarithmic; the in-process arm plots items/s against the
     * latency of one batch call. Each arm keeps its colour across charts.
     */
    void chart(Path png) throws IOException {
        Map<String, List<ArmResult>> groups = new LinkedHashMap<>();
        for (Workload w : workloads()) {
            String key = w == Workload.LARGE_BINARY || w == Workload.LARGE_JSON ? "fp32-600k (JSON vs binary)"
                    : w.label();
            results.stream().filter(r -> r.workload() == w)
                    .forEach(r -> groups.computeIfAbsent(key, k -> new ArrayList<>()).add(r));
        }
        List<XYChart> charts = new ArrayList<>();
        for (Map.Entry<String, List<ArmResult>> group : groups.entrySet()) {
            XYChart chart = new XYChartBuilder().width(640).height(420).title(group.getKey() + ": throughput vs p99")
                    .xAxisTitle("achieved req/s (in-process: items/s), log").yAxisTitle("p99 latency, ms, log").build();
            chart.getStyler().setXAxisLogarithmic(true);
            chart.getStyler().setYAxisLogarithmic(true);
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
            chart.getStyler().setMarkerSize(7);
            chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            Map<SeriesKey, List<Measurement>> series = new LinkedHashMap<>();
            for (ArmResult r : group.getValue()) {
                Measurement m = r.measurement();
                if (!(m.mode().equals("open") || m.mode().equals("inproc")) || Double.isNaN(m.percentileMillis(99))
                        || m.percentileMillis(99) <= 0 || m.throughput() <= 0) {
                    continue;
                }
                String name = r.arm() + (r.phase().isEmpty() ? "" : " " + r.phase())
                        + (m.mode().equals("inproc") ? " (per batch call)" : "")
                        + (r.workload() == Workload.LARGE_BINARY ? " binary"
                        : r.workload() == Workload.LARGE_JSON ? " JSON" : "");
                series.computeIfAbsent(new SeriesKey(r.arm(), name), k -> new ArrayList<>()).add(m);
            }
            for (Map.Entry<SeriesKey, List<Measurement>> e : series.entrySet()) {
                String arm = e.getKey().arm();
                String name = e.getKey().name();
                List<Measurement> points = e.getValue().stream()
                        .sorted(Comparator.comparingDouble(Measurement::throughput)).toList();
                XYSeries s = chart.addSeries(name, points.stream().map(Measurement::throughput).toList(),
                        points.stream().map(m -> m.percentileMillis(99)).toList());
                s.setLineColor(colour(arm));
                s.setMarkerColor(colour(arm));
                s.setMarker(marker(arm));
                if (name.endsWith(" JSON")) {
                    s.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT,
                            java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
                }
            }
            if (!series.isEmpty()) {
                charts.add(chart);
            }
        }
        if (charts.isEmpty()) {
            return;
        }
        /* Composed here: XChart's own grid needs exactly rows x cols charts. */
        int cols = Math.min(2, charts.size());
        int rows = (charts.size() + cols - 1) / cols;
        int w = 640;
        int h = 420;
        java.awt.image.BufferedImage grid = new java.awt.image.BufferedImage(cols * w, rows * h,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = grid.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        for (int i = 0; i < charts.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), (i % cols) * w, (i / cols) * h, null);
        }
        g.dispose();
        javax.imageio.ImageIO.write(grid, "png", png.toFile());
    }

    private record SeriesKey(String arm, String name) {
    }

    private static org.knowm.xchart.style.markers.Marker marker(String arm) {
        return switch (arm) {
            case "direct" -> org.knowm.xchart.style.markers.SeriesMarkers.CIRCLE;
            case "gantry-batching" -> org.knowm.xchart.style.markers.SeriesMarkers.DIAMOND;
            case "gantry-no-batching" -> org.knowm.xchart.style.markers.SeriesMarkers.SQUARE;
            case "gantry-hotswap" -> org.knowm.xchart.style.markers.SeriesMarkers.TRIANGLE_UP;
            default -> org.knowm.xchart.style.markers.SeriesMarkers.TRIANGLE_DOWN;
        };
    }

    private static java.awt.Color colour(String arm) {
        return switch (arm) {
            case "direct" -> new java.awt.Color(0x1f77b4);
            case "gantry-batching" -> new java.awt.Color(0xd62728);
            case "gantry-no-batching" -> new java.awt.Color(0xff7f0e);
            case "inproc" -> new java.awt.Color(0x2ca02c);
            case "gantry-hotswap" -> new java.awt.Color(0x9467bd);
            default -> new java.awt.Color(0x7f7f7f);
        };
    }

    private List<Workload> workloads() {
        return results.stream().map(ArmResult::workload).distinct().sorted().toList();
    }

    private static String kinds(Measurement m) {
        return m.errorKinds().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v);
    }
}
