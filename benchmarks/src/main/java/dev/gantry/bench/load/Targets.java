package dev.gantry.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/** Gantry's five performance targets, each computed from one run's own measurements and marked met or missed. */
final class Targets {
    /*
     * Every figure compares arms of the same run, so machine noise that moves all arms cancels out. A target
     * whose inputs the run did not measure (an arm or workload left out, a run that failed) is "not measured",
     * never met. Open-loop figures count only runs without errors: a p99 over the answered requests of a run
     * that dropped some would flatter it.
     */
    static final String MET = "met";
    static final String MISSED = "missed";
    static final String NOT_MEASURED = "not measured";

    private static final String DIRECT = "direct";
    private static final String BATCHING = "gantry-batching";
    private static final String INPROC = "inproc";

    /** One line of the table. */
    record Target(String id, String what, String goal, String measured, String status) {
    }

    private final List<ArmResult> results;
    private final Map<Workload, List<Double>> referenceRates;
    private final List<HotSwap.Result> hotSwaps;

    Targets(List<ArmResult> results, Map<Workload, List<Double>> referenceRates, List<HotSwap.Result> hotSwaps) {
        this.results = results;
        this.referenceRates = referenceRates;
        this.hotSwaps = hotSwaps;
    }

    List<Target> evaluate() {
        List<Target> t = new ArrayList<>();
        t.add(ratio("1a", "MLP over HTTP: max throughput, gantry-batching / direct", 3.0,
                maxClosed(BATCHING, Workload.MLP), maxClosed(DIRECT, Workload.MLP), "req/s"));
        t.add(mlpTail());
        t.add(ratio("2a", "MiniLM s16: gantry-batching max items/s / in-process best items/s", 0.9,
                maxClosed(BATCHING, Workload.MINILM_16), bestInproc(Workload.MINILM_16), "items/s"));
        t.add(ratio("2b", "MiniLM s128: gantry-batching max items/s / in-process best items/s", 0.9,
                maxClosed(BATCHING, Workload.MINILM_128), bestInproc(Workload.MINILM_128), "items/s"));
        t.add(serverAdded());
        t.add(ratio("4", "600 KB FP32 input on gantry-batching: binary / JSON max throughput", 3.0,
                maxClosed(BATCHING, Workload.LARGE_BINARY), maxClosed(BATCHING, Workload.LARGE_JSON), "req/s"));
        t.add(ratio("6", "MLP on gantry-batching: gRPC / HTTP JSON max throughput", 1.0,
                maxClosed(BATCHING, Workload.MLP_GRPC), maxClosed(BATCHING, Workload.MLP), "req/s"));
        t.addAll(hotSwap());
        return t;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder("## Targets\n\n");
        sb.append("Computed from this run's own measurements (ratios between arms of the same run).\n\n");
        sb.append("| # | target | goal | measured | status |\n|---|---|---|---|---|\n");
        for (Target t : evaluate()) {
            sb.append("| ").append(t.id()).append(" | ").append(t.what()).append(" | ").append(t.goal()).append(" | ")
                    .append(t.measured()).append(" | ")
                    .append(t.status().equals(MET) ? "**met**" : t.status().equals(MISSED) ? "**missed**" : t.status())
                    .append(" |\n");
        }
        return sb.append('\n').toString();
    }

    private static Target ratio(String id, String what, double goal, double numerator, double denominator,
                                String unit) {
        String goalText = String.format(Locale.ROOT, ">= %.1fx", goal);
        if (!(numerator > 0) || !(denominator > 0)) {
            return new Target(id, what, goalText, missing(numerator, denominator, unit), NOT_MEASURED);
        }
        double r = numerator / denominator;
        return new Target(id, what, goalText, String.format(Locale.ROOT, "%.2fx (%.1f vs %.1f %s)", r, numerator,
                denominator, unit), r >= goal ? MET : MISSED);
    }

    private static String missing(double numerator, double denominator, String unit) {
        return String.format(Locale.ROOT, "%s vs %s %s", numerator > 0 ? String.format(Locale.ROOT, "%.1f", numerator)
                : "-", denominator > 0 ? String.format(Locale.ROOT, "%.1f", denominator) : "-", unit);
    }

    /** 1b: p99 of gantry-batching and of direct at each reference rate (the same offered load for both). */
    private Target mlpTail() {
        String what = "MLP over HTTP: open-loop p99 at the same offered load (the reference rates), gantry-batching "
                + "vs direct";
        List<String> parts = new ArrayList<>();
        boolean all = true;
        int compared = 0;
        for (double rate : referenceRates.getOrDefault(Workload.MLP, List.of())) {
            Optional<Measurement> g = open(BATCHING, Workload.MLP, rate);
            Optional<Measurement> d = open(DIRECT, Workload.MLP, rate);
            if (g.isEmpty() || d.isEmpty()) {
                continue;
            }
            String gText = p99Text(g.get());
            String dText = p99Text(d.get());
            parts.add(String.format(Locale.ROOT, "%.0f/s: %s vs %s ms", rate, gText, dText));
            if (g.get().errors() > 0) {
                all = false;
            } else if (d.get().errors() == 0) {
                all &= g.get().percentileMillis(99) <= d.get().percentileMillis(99);
            }
            compared++;
        }
        if (compared == 0) {
            return new Target("1b", what, "gantry <= direct", "-", NOT_MEASURED);
        }
        return new Target("1b", what, "gantry <= direct", String.join("; ", parts), all ? MET : MISSED);
    }

    private static String p99Text(Measurement m) {
        String p99 = String.format(Locale.ROOT, "%.2f", m.percentileMillis(99));
        return m.errors() == 0 ? p99 : p99 + " (" + m.errors() + " errors)";
    }

    /** 3: closed-loop p50 at one client on mlp over HTTP, minus the in-process call p50 at batch 1. */
    private Target serverAdded() {
        String what = "server-added latency at one client: gantry-batching HTTP p50 (closed loop, concurrency 1, "
                + "mlp, JSON) - in-process p50 at batch 1";
        Optional<Measurement> http = find(r -> r.arm().equals(BATCHING) && r.workload() == Workload.MLP
                && r.measurement().mode().equals("closed") && r.measurement().concurrency() == 1);
        Optional<Measurement> inproc = find(r -> r.arm().equals(INPROC) && r.workload() == Workload.MLP
                && r.measurement().concurrency() == 1);
        if (http.isEmpty() || inproc.isEmpty() || http.get().ok() == 0 || inproc.get().ok() == 0) {
            return new Target("3", what, "<= 100 us", "-", NOT_MEASURED);
        }
        double httpUs = http.get().latency().getValueAtPercentile(50);
        double inprocUs = inproc.get().latency().getValueAtPercentile(50);
        double added = httpUs - inprocUs;
        return new Target("3", what, "<= 100 us", String.format(Locale.ROOT, "%.0f us (%.0f - %.0f us)", added,
                httpUs, inprocUs), added <= 100 ? MET : MISSED);
    }

    /** 5a, 5b: failed requests during the swap window, and its p99 against the steady window's. */
    private List<Target> hotSwap() {
        String failedWhat = "hot swap (classifier, open loop at 50% of max, at most "
                + LoadBenchmark.HOT_SWAP_MAX_RATE + " req/s): failed requests during the swap window";
        String tailWhat = "hot swap: p99 during the swap window / p99 in the steady window";
        Optional<HotSwap.Result> found = hotSwaps.stream().filter(r -> r.steady() != null && r.swap() != null)
                .findFirst();
        if (found.isEmpty()) {
            return List.of(new Target("5a", failedWhat, "0", "-", NOT_MEASURED),
                    new Target("5b", tailWhat, "<= 2.0x", "-", NOT_MEASURED));
        }
        HotSwap.Result r = found.get();
        String caveat = r.valid() ? "" : "; the swap did not go as planned (see Hot swap)";
        String status = r.valid() ? null : NOT_MEASURED;
        Measurement swap = r.swap();
        Measurement steady = r.steady();
        long behind = steady.errorKinds().getOrDefault(HttpLoadGenerator.CLIENT_BACKLOG, 0L);
        String tailCaveat = behind == 0 ? caveat : caveat + "; the load generator fell behind in the steady window ("
                + behind + " requests over its backlog), so that p99 is the generator's";
        String tailStatus = behind == 0 ? status : NOT_MEASURED;
        Target failed = new Target("5a", failedWhat, "0", String.format(Locale.ROOT, "%d of %d%s%s", swap.errors(),
                swap.sent(), swap.errorKinds().isEmpty() ? "" : " " + swap.errorKinds(), caveat),
                status != null ? status : swap.errors() == 0 ? MET : MISSED);
        double ratio = swap.percentileMillis(99) / steady.percentileMillis(99);
        Target tail = new Target("5b", tailWhat, "<= 2.0x", Double.isNaN(ratio) ? "-" + tailCaveat
                : String.format(Locale.ROOT, "%.2fx (%.2f vs %.2f ms)%s", ratio, swap.percentileMillis(99),
                steady.percentileMillis(99), tailCaveat),
                tailStatus != null || Double.isNaN(ratio) ? NOT_MEASURED : ratio <= 2.0 ? MET : MISSED);
        return List.of(failed, tail);
    }

    private double maxClosed(String arm, Workload w) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == w
                        && r.measurement().mode().equals("closed"))
                .mapToDouble(r -> r.measurement().throughput()).max().orElse(0);
    }

    private double bestInproc(Workload w) {
        return results.stream().filter(r -> r.arm().equals(INPROC) && r.workload() == w)
                .mapToDouble(r -> r.measurement().throughput()).max().orElse(0);
    }

    private Optional<Measurement> open(String arm, Workload w, double rate) {
        return find(r -> r.arm().equals(arm) && r.workload() == w && r.phase().isEmpty()
                && r.measurement().mode().equals("open") && r.measurement().targetRate() == rate);
    }

    private Optional<Measurement> find(Predicate<ArmResult> p) {
        return results.stream().filter(p).map(ArmResult::measurement).findFirst();
    }
}
