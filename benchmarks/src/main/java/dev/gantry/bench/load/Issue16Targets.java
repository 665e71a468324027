package dev.gantry.bench.load;

import dev.gantry.bench.load.BuildComparison.Level;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Issue 16's targets ("the request path close to the HTTP ceiling"), each computed from one run's own
 * measurements with its goal and a status: MLP JSON throughput against the ceiling and the direct-call arm, the
 * tails at one client and at 16 connections, resident memory, open-loop p99 at 90% of the direct arm's max,
 * MiniLM seq 16 against in-process ORT, and the access log's cost (measured, no goal).
 */
final class Issue16Targets {
    /*
     * As in Targets: arms of the same run only, "not measured" whenever an input is missing, and open-loop or
     * closed-loop tails of runs with errors never count as met.
     */
    private static final String DIRECT = "direct";
    private static final String BATCHING = "gantry-batching";
    private static final String INPROC = "inproc";
    /**
     * The share of one CPU above which the load generator, not the server, most likely paced a window. On 12-03
     * (benchmarks/results/open-loop-generator-20261203.md), 16.5's pair at 24,022 req/s: with G1 the generator
     * used 54-69% of its CPU in every window, none of which had a failed request; with ZGC, 93% in the window in
     * which Gantry's side lost 60,145 sends while Gantry's server used 77% of its core, and 83% in the next one,
     * which lost 18,202: a bound, not a line between the two kinds of window.
     */
    static final double GENERATOR_BOUND = 0.9;

    private final List<ArmResult> results;
    private final Map<Workload, List<Double>> referenceRates;
    private final ResidentMemory memory;
    private final List<Paired> paired;

    /**
     * A target that compares two arms, measured again after the arms, its two sides in alternating windows (BuildComparison's
     * method), so drift of the machine between arms run minutes apart falls on both sides alike.
     *
     * @param id the target's id (16.1b, 16.2, 16.5, 16.6)
     * @param pair what was compared, e.g. "gantry-batching / direct, MLP JSON at 64 connections"
     * @param level the medians over the rounds and each round's ratio
     */
    record Paired(String id, String pair, BuildComparison.Level level) {
    }

    Issue16Targets(List<ArmResult> results, Map<Workload, List<Double>> referenceRates, ResidentMemory memory) {
        this(results, referenceRates, memory, List.of());
    }

    Issue16Targets(List<ArmResult> results, Map<Workload, List<Double>> referenceRates, ResidentMemory memory,
                   List<Paired> paired) {
        this.results = results;
        this.referenceRates = referenceRates;
        this.memory = memory;
        this.paired = paired;
    }

    List<Targets.Target> evaluate() {
        List<Targets.Target> t = new ArrayList<>();
        double gantry = maxClosed(BATCHING, Workload.MLP);
        t.add(atLeast("16.1a", "MLP JSON, closed loop, max throughput: gantry-batching / ceiling", 0.5, gantry,
                maxClosed(Issue16Arms.CEILING, Workload.MLP), "req/s"));
        t.add(atLeast("16.1b", "MLP JSON, closed loop, max throughput: gantry-batching / direct", 2.0, gantry,
                maxClosed(DIRECT, Workload.MLP), "req/s"));
        alternating("16.1b", 2.0).ifPresent(t::add);
        t.add(closedTail("16.2", "MLP JSON at one client: p50, gantry-batching vs direct", 1, 50));
        alternatingP50().ifPresent(t::add);
        t.add(closedTail("16.3", "MLP JSON, closed loop at 16 connections: p99, gantry-batching vs direct", 16, 99));
        t.add(memory());
        t.add(openTail());
        alternatingTail().ifPresent(t::add);
        t.add(atLeast("16.6", "MiniLM seq 16: gantry-batching max items/s / in-process best batch", 0.9,
                maxClosed(BATCHING, Workload.MINILM_16), bestInproc(Workload.MINILM_16), "items/s"));
        alternating("16.6", 0.9).ifPresent(t::add);
        t.add(accessLog());
        return t;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder("## Issue 16 targets\n\n");
        sb.append("The request path against the HTTP ceiling (`ceiling`: canned body, no parsing, no model) and the "
                + "direct-call yardstick, from this run's own measurements.\n\n");
        if (!paired.isEmpty()) {
            sb.append("Rows marked \"alternating\" measure a target that compares two arms again after the arms: its two sides take "
                    + "turns in short windows on the same CPU (BuildComparison's method), so the machine's drift "
                    + "between arms run minutes apart falls on both alike. Where the two readings of a target "
                    + "disagree, the arms were measured on a machine that changed speed between them.\n\n");
        }
        sb.append("| # | target | goal | measured | status |\n|---|---|---|---|---|\n");
        for (Targets.Target t : evaluate()) {
            sb.append("| ").append(t.id()).append(" | ").append(t.what()).append(" | ").append(t.goal()).append(" | ")
                    .append(t.measured()).append(" | ").append(t.status().equals(Targets.MET) ? "**met**"
                            : t.status().equals(Targets.MISSED) ? "**missed**" : t.status()).append(" |\n");
        }
        return sb.append('\n').toString();
    }

    private static Targets.Target atLeast(String id, String what, double goal, double numerator, double denominator,
                                          String unit) {
        String goalText = String.format(Locale.ROOT, ">= %.1fx", goal);
        if (!(numerator > 0) || !(denominator > 0)) {
            return new Targets.Target(id, what, goalText, "-", Targets.NOT_MEASURED);
        }
        double r = numerator / denominator;
        return new Targets.Target(id, what, goalText, String.format(Locale.ROOT, "%.2fx (%.1f vs %.1f %s)", r,
                numerator, denominator, unit), r >= goal ? Targets.MET : Targets.MISSED);
    }

    /** The row of a target's alternating-window reading, when the run measured one. */
    private Optional<Targets.Target> alternating(String id, double goal) {
        return paired.stream().filter(p -> p.id().equals(id)).findFirst().map(p -> {
            BuildComparison.Level l = p.level();
            String goalText = String.format(Locale.ROOT, ">= %.1fx", goal);
            double r = l.ratio();
            if (!(r > 0) || Double.isInfinite(r)) {
                return new Targets.Target(id + ", alternating", p.pair(), goalText, "-", Targets.NOT_MEASURED);
            }
            StringBuilder rounds = new StringBuilder();
            for (double x : l.perRound()) {
                rounds.append(rounds.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", x));
            }
            String cpu = Double.isNaN(l.cpuRatio()) ? "" : String.format(Locale.ROOT,
                    "; server CPU per request %.2fx", l.cpuRatio());
            return new Targets.Target(id + ", alternating", p.pair() + ", median of " + l.perRound().length
                    + " rounds", goalText, String.format(Locale.ROOT, "%.2fx (%.1f vs %.1f; rounds %s%s%s)", r,
                    l.thisRate(), l.baseRate(), rounds, cpu, l.stolen()), r >= goal ? Targets.MET : Targets.MISSED);
        });
    }

    /** 16.2's alternating reading: the median p50 of each side at one client, windows in turn. */
    private Optional<Targets.Target> alternatingP50() {
        return alternatingLatency("16.2", "%.3f", Level::thisP50, Level::baseP50, Level::perRoundP50);
    }

    /** 16.5's alternating reading: the median open-loop p99 of each side at the same rate, windows in turn. */
    private Optional<Targets.Target> alternatingTail() {
        return alternatingLatency("16.5", "%.2f", Level::thisP99, Level::baseP99, Level::perRoundP99);
    }

    /**
     * A latency target's alternating reading: Gantry's median against the direct server's (lower is better), each
     * round's ratio, and the failed requests of both sides; missed whenever Gantry's side had any.
     *
     * @param millis the format of the two medians, in ms
     */
    private Optional<Targets.Target> alternatingLatency(String id, String millis, ToDoubleFunction<Level> mine,
                                                        ToDoubleFunction<Level> base,
                                                        Function<Level, double[]> rounds) {
        return paired.stream().filter(p -> p.id().equals(id)).findFirst().map(p -> {
            Level l = p.level();
            String row = id + ", alternating";
            String what = p.pair() + ", median of " + l.perRound().length + " rounds";
            double g = mine.applyAsDouble(l);
            double d = base.applyAsDouble(l);
            if (!(g > 0) || !(d > 0)) {
                return new Targets.Target(row, what, "gantry <= direct", "-", Targets.NOT_MEASURED);
            }
            StringBuilder each = new StringBuilder();
            for (double x : rounds.apply(l)) {
                each.append(each.isEmpty() ? "; rounds " : ", ").append(String.format(Locale.ROOT, "%.2f", x));
            }
            String failed = l.thisErrors() > 0 || l.baseErrors() > 0 ? String.format(Locale.ROOT,
                    ", failed requests: %d of Gantry's, %d of the direct server's", l.thisErrors(), l.baseErrors())
                    + (l.thisErrors() > 0 ? generator(l) : "") : "";
            boolean met = l.thisErrors() == 0 && g <= d;
            return new Targets.Target(row, what, "gantry <= direct", String.format(Locale.ROOT, millis + " vs "
                    + millis + " ms (%.2fx%s%s)%s", g, d, g / d, each, l.stolen(), failed),
                    met ? Targets.MET : Targets.MISSED);
        });
    }

    /**
     * How busy the load generator was while pacing Gantry's windows that had failed requests, said beside them so a
     * reader can tell a server that fell behind from a generator that did; the status does not change with it.
     */
    private static String generator(Level l) {
        return Double.isNaN(l.thisGeneratorCpu()) ? "" : String.format(Locale.ROOT, " (the load generator used up "
                + "to %.0f%% of one CPU in those of Gantry's windows%s)", 100 * l.thisGeneratorCpu(),
                l.thisGeneratorCpu() >= GENERATOR_BOUND ? ": it, not the server, most likely set the pace" : "");
    }

    private Targets.Target closedTail(String id, String what, int concurrency, double percentile) {
        Optional<Measurement> g = closed(BATCHING, Workload.MLP, concurrency);
        Optional<Measurement> d = closed(DIRECT, Workload.MLP, concurrency);
        if (g.isEmpty() || d.isEmpty() || g.get().ok() == 0 || d.get().ok() == 0) {
            return new Targets.Target(id, what, "gantry <= direct", "-", Targets.NOT_MEASURED);
        }
        double gv = g.get().percentileMillis(percentile);
        double dv = d.get().percentileMillis(percentile);
        boolean met = g.get().errors() == 0 && gv <= dv;
        return new Targets.Target(id, what, "gantry <= direct", String.format(Locale.ROOT, "%.3f vs %.3f ms "
                + "(%.2fx)%s", gv, dv, gv / dv, g.get().errors() > 0 ? ", " + g.get().errors() + " errors" : ""),
                met ? Targets.MET : Targets.MISSED);
    }

    private Targets.Target memory() {
        String what = "resident memory (VmRSS) of the server after its run: gantry-batching / direct";
        OptionalLong g = memory.afterRunKib(BATCHING);
        OptionalLong d = memory.afterRunKib(DIRECT);
        if (g.isEmpty() || d.isEmpty()) {
            return new Targets.Target("16.4", what, "<= 1.5x", "-", Targets.NOT_MEASURED);
        }
        double r = (double) g.getAsLong() / d.getAsLong();
        return new Targets.Target("16.4", what, "<= 1.5x", String.format(Locale.ROOT, "%.2fx (%d vs %d MB)", r,
                g.getAsLong() / 1024, d.getAsLong() / 1024), r <= 1.5 ? Targets.MET : Targets.MISSED);
    }

    /** Open loop at the highest reference rate (0.9x the direct arm's max in every plan). */
    private Targets.Target openTail() {
        String what = "MLP JSON, open loop at 90% of direct's max: p99, gantry-batching vs direct";
        List<Double> rates = referenceRates.getOrDefault(Workload.MLP, List.of());
        if (rates.isEmpty()) {
            return new Targets.Target("16.5", what, "gantry <= direct", "-", Targets.NOT_MEASURED);
        }
        double rate = rates.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        Optional<Measurement> g = open(BATCHING, rate);
        Optional<Measurement> d = open(DIRECT, rate);
        if (g.isEmpty() || d.isEmpty()) {
            return new Targets.Target("16.5", what, "gantry <= direct", "-", Targets.NOT_MEASURED);
        }
        double gv = g.get().percentileMillis(99);
        double dv = d.get().percentileMillis(99);
        boolean met = g.get().errors() == 0 && gv <= dv;
        return new Targets.Target("16.5", what, "gantry <= direct", String.format(Locale.ROOT, "%.0f/s: %.2f vs "
                + "%.2f ms (%.2fx)%s", rate, gv, dv, gv / dv, g.get().errors() > 0 ? ", " + g.get().errors()
                + " errors" : ""), met ? Targets.MET : Targets.MISSED);
    }

    /** The access log's cost: gantry-access-log (on) against gantry-batching (the default, off), both at 16. */
    private Targets.Target accessLog() {
        String what = "access log cost: MLP JSON closed loop at 16 connections, log on (gantry-access-log) / off "
                + "(gantry-batching)";
        Optional<Measurement> on = closed(Issue16Arms.ACCESS_LOG, Workload.MLP, 16);
        Optional<Measurement> off = closed(BATCHING, Workload.MLP, 16);
        if (on.isEmpty() || off.isEmpty() || off.get().throughput() <= 0) {
            return new Targets.Target("16.7", what, "measured", "-", Targets.NOT_MEASURED);
        }
        return new Targets.Target("16.7", what, "measured", String.format(Locale.ROOT, "throughput %.2fx (%.1f vs "
                        + "%.1f req/s), p99 %.2f vs %.2f ms", on.get().throughput() / off.get().throughput(),
                on.get().throughput(), off.get().throughput(), on.get().percentileMillis(99),
                off.get().percentileMillis(99)), "measured");
    }

    private Optional<Measurement> closed(String arm, Workload w, int concurrency) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == w
                        && r.measurement().mode().equals("closed") && r.measurement().concurrency() == concurrency)
                .map(ArmResult::measurement).findFirst();
    }

    private Optional<Measurement> open(String arm, double rate) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == Workload.MLP
                        && r.phase().isEmpty() && r.measurement().mode().equals("open")
                        && r.measurement().targetRate() == rate)
                .map(ArmResult::measurement).findFirst();
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
}
