package dev.gantry.bench.load;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The end-to-end load benchmark: starts each server under test as a child JVM, drives it over loopback HTTP
 * closed loop (capacity) and open loop (latency at fixed arrival rates, coordinated omission corrected), runs
 * the in-process ORT ceiling, and writes {@code <out>/<timestamp>.md}, {@code .csv} and {@code .png} (and
 * copies them to {@code latest.*}).
 *
 * <p>Run from the repository root after {@code mvn -pl benchmarks -am package -DskipTests}:
 * <pre>
 * java -jar benchmarks/target/benchmarks-load.jar           # standard, ~30 min (same as ./gantry bench)
 * java -jar benchmarks/target/benchmarks-load.jar --quick   # smoke test of the harness, ~10 min
 * java -jar benchmarks/target/benchmarks-load.jar --full    # every level and rate, ~1 h 20 min
 * </pre>
 * Options: {@code --standard} (the default), {@code --quick}, {@code --full}, {@code --arms direct,
 * gantry-batching,gantry-tracing,gantry-no-batching,gantry-isolated,gantry-hotswap,inproc}, {@code --workloads mlp,mlp-binary,mlp-grpc,
 * minilm-s16,minilm-s128,minilm-q-s16,fp32-600k-json,fp32-600k-binary,classifier,minilm-embeddings} (mlp, mlp-binary and
 * mlp-grpc are the same MLP request as HTTP JSON, HTTP binary and gRPC, for the transport comparison),
 * {@code --models DIR} (default {@code models}),
 * {@code --out DIR} (default {@code benchmarks/results}), {@code --server-cpus 1} / {@code --client-cpus 0}
 * (taskset lists), {@code --no-pin}, {@code --warmup-seconds S} (each server JVM's first warm-up),
 * {@code --workload-warmup-seconds S} (the warm-up of each further workload on the same JVM),
 * {@code --run-seconds S} (every closed- and open-loop window), {@code --closed-only} (no open-loop runs),
 * {@code --paired-rounds N} (rounds of the alternating pairs of targets 16.1b, 16.2, 16.5 and 16.6 after the arms:
 * 4 unless {@code --quick}, 0 for none),
 * {@code --server-heap -Xmx1g} (every server's heap instead of Gantry's default for the server CPUs;
 * {@code jvm-default} passes none), {@code --jvm-opt OPT} (repeatable: one more option for every server JVM, e.g.
 * {@code -XX:+PrintCompilation}; the report's header lists them), {@code --dry-run} (print the plan and its estimated duration, run nothing).
 */
public final class LoadBenchmark {
    /*
     * Per server arm: one child JVM, warmed up once at length on its first workload (a JVM server needs 45-60 s
     * of load before its figures settle), then each workload in turn: a short warm-up of its own (closed loop,
     * concurrency 16; each warm-up goes on, up to SETTLE_CAP more, until the server's JIT took under 2% of its
     * CPU in a 5 s window, see ServerCpu), a closed-loop sweep over concurrency (its best throughput is the arm's
     * max), then open-loop runs at fractions of that max, plus - for the non-direct arms - at the reference rates taken
     * from the direct-call server, so every arm is also compared at equal offered load. The hot swap arm runs
     * HotSwap instead of the open-loop runs. Arms run one after another in one invocation; compare them as
     * ratios within a run, never across runs on this shared machine.
     */
    private static final String HOST = "127.0.0.1";
    private static final String INPROC = "inproc";
    private static final String DIRECT = "direct";
    /**
     * JVM flags of every server and of the in-process arm: the same heap for all, the one Gantry's launcher gives
     * a server on the server CPUs ({@code MachineDefaults}), so resident memory is compared at Gantry's default.
     */
    private final List<String> serverJvm;
    /** Where the servers' heap came from, for the report. */
    private final String heapSource;
    /** Each server's resident memory after its JVM warm-up and after its run. */
    private final ResidentMemory memory = new ResidentMemory();
    private ServerProcess current;

    /**
     * How long and at what loads each arm runs.
     *
     * @param firstWarmup the warm-up of each server JVM, on its first workload
     * @param warmup the warm-up of each further workload on the same JVM
     * @param inprocWarmup the warm-up of each in-process JVM (ORT's native code dominates it; no HTTP stack)
     * @param inprocWorkloads what the in-process arm runs
     * @param steadyWindow hot swap: the open-loop window without admin calls
     * @param swapInterval hot swap: the time between admin calls; the swap window is (HotSwap.STEPS + 1) of them
     * @param openWarmup an unmeasured open-loop run before each workload's open-loop runs and before the hot
     *     swap's steady window, at the first rate measured next
     */
    record Plan(String name, Duration firstWarmup, Duration warmup, Duration closedRun, Duration openRun,
                List<Integer> concurrencies, List<Double> fractions, List<Double> referenceFractions,
                List<Integer> inprocBatches, Duration inprocWarmup, List<Workload> inprocWorkloads,
                Duration steadyWindow, Duration swapInterval, Duration openWarmup) {
        private static final List<Workload> INPROC_WORKLOADS = List.of(Workload.MLP, Workload.MINILM_16,
                Workload.MINILM_128, Workload.EMBEDDINGS);

        static Plan quick() {
            return new Plan("quick", Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(3),
                    Duration.ofSeconds(4), List.of(16), List.of(0.5, 0.9), List.of(0.5, 0.9), List.of(1, 8, 32),
                    Duration.ofSeconds(5), INPROC_WORKLOADS, Duration.ofSeconds(5), Duration.ofSeconds(1),
                    Duration.ofSeconds(3));
        }

        static Plan standard() {
            return new Plan("standard", Duration.ofSeconds(45), Duration.ofSeconds(5), Duration.ofSeconds(10),
                    Duration.ofSeconds(10), List.of(1, 16, 64), List.of(0.5, 0.9), List.of(0.5, 0.9),
                    List.of(1, 8, 32, 64), Duration.ofSeconds(10), INPROC_WORKLOADS, Duration.ofSeconds(20),
                    Duration.ofSeconds(2), Duration.ofSeconds(10));
        }

        static Plan full() {
            return new Plan("full", Duration.ofSeconds(50), Duration.ofSeconds(50), Duration.ofSeconds(15),
                    Duration.ofSeconds(20), List.of(1, 8, 32, 64), List.of(0.25, 0.5, 0.75, 0.9, 1.0, 1.2),
                    List.of(0.5, 0.9), List.of(1, 4, 8, 16, 32, 64), Duration.ofSeconds(50),
                    List.of(Workload.MLP, Workload.MINILM_16, Workload.MINILM_128, Workload.MINILM_Q_16,
                            Workload.EMBEDDINGS),
                    Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofSeconds(10));
        }

        Plan withWarmups(Duration first, Duration each) {
            return new Plan(name, first == null ? firstWarmup : first, each == null ? warmup : each, closedRun,
                    openRun, concurrencies, fractions, referenceFractions, inprocBatches, inprocWarmup,
                    inprocWorkloads, steadyWindow, swapInterval, openWarmup);
        }

        Plan withRuns(Duration d) {
            return new Plan(name, firstWarmup, warmup, d, d, concurrencies, fractions, referenceFractions,
                    inprocBatches, inprocWarmup, inprocWorkloads, steadyWindow, swapInterval, openWarmup);
        }

        /** The same plan without open-loop runs. */
        Plan closedOnly() {
            return new Plan(name, firstWarmup, warmup, closedRun, openRun, concurrencies, List.of(), List.of(),
                    inprocBatches, inprocWarmup, inprocWorkloads, steadyWindow, swapInterval, openWarmup);
        }

        Duration swapWindow() {
            return swapInterval.multipliedBy(HotSwap.STEPS + 1);
        }

        /** Seconds an in-process measurement of one batch size lasts. */
        double inprocSeconds() {
            return Math.max(2, closedRun.toSeconds());
        }

        /*
         * The estimate adds to the planned windows what experience says the rest takes: a server's start-up
         * (loading and warming its models) and stop, the drain after each open-loop window (answers still in
         * flight; longer when an arm is driven above its capacity at the direct server's rates), a JVM start per
         * in-process workload.
         */
        private static final Duration SERVER_START_STOP = Duration.ofSeconds(25);
        private static final Duration OPEN_DRAIN = Duration.ofSeconds(3);
        private static final Duration INPROC_START = Duration.ofSeconds(5);

        /** The expected wall time of running {@code arms} on {@code workloads} (of each arm's own). */
        Duration estimate(List<ServerArm> arms, boolean inproc, java.util.Collection<Workload> workloads) {
            Duration total = Duration.ZERO;
            List<Workload> referenced = arms.stream().filter(a -> a.name().equals(DIRECT))
                    .flatMap(a -> a.workloads().stream()).filter(workloads::contains).toList();
            for (ServerArm arm : arms) {
                List<Workload> selected = arm.workloads().stream().filter(workloads::contains).toList();
                if (selected.isEmpty()) {
                    continue;
                }
                total = total.plus(SERVER_START_STOP).plus(firstWarmup).minus(warmup);
                for (Workload w : selected) {
                    total = total.plus(warmup).plus(closedRun.multipliedBy(concurrencies.size()));
                    if (arm.scenario() == ServerArm.Scenario.HOT_SWAP) {
                        total = total.plus(openWarmup).plus(steadyWindow).plus(swapWindow())
                                .plus(OPEN_DRAIN.multipliedBy(3));
                        continue;
                    }
                    int rates = fractions.size();
                    if (!arm.name().equals(DIRECT) && referenced.contains(w)) {
                        rates += referenceFractions.size();
                    }
                    total = total.plus(openRun.plus(OPEN_DRAIN).multipliedBy(rates));
                    if (rates > 0) {
                        total = total.plus(openWarmup).plus(OPEN_DRAIN);
                    }
                }
            }
            if (inproc) {
                for (Workload w : inprocWorkloads) {
                    if (workloads.contains(w)) {
                        total = total.plus(INPROC_START).plus(inprocWarmup).plus(Duration.ofMillis((long) (1000
                                * inprocBatches.size() * (Math.min(inprocWarmup.toSeconds(), 2) + inprocSeconds()))));
                    }
                }
            }
            return total;
        }
    }

    private final Plan plan;
    /** Rounds of each alternating pair after the arms (0: none); see {@link #runPairs}. */
    private int pairedRounds;
    private String clientCpus = "0";
    private final List<Issue16Targets.Paired> paired = new ArrayList<>();
    /** The connections of the alternating pairs: where the closed-loop sweeps find the maxima. */
    private static final int PAIRED_CONNECTIONS = 64;
    private static final int PAIRED_ROUNDS = 4;
    private final Path models;
    private final Path out;
    private final String serverCpus;
    private final String stamp;
    private final Set<String> arms;
    private final Set<Workload> workloads;
    private final List<ArmResult> results = new ArrayList<>();
    private final List<HotSwap.Result> hotSwaps = new ArrayList<>();
    private final Map<Workload, List<Double>> referenceRates = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final int cpus;
    /** The host's steal from the server CPUs in every measured window. */
    private final HostSteal steal;

    private LoadBenchmark(Plan plan, Path models, Path out, String serverCpus, Set<String> arms,
                          Set<Workload> workloads, int cpus, String serverHeap, List<String> extraJvm) {
        this.cpus = cpus;
        this.plan = plan;
        this.models = models;
        this.out = out;
        this.serverCpus = serverCpus;
        this.steal = new HostSteal(serverCpus);
        this.arms = arms;
        int serverCores = serverCpus.isEmpty() ? cpus : cpuCount(serverCpus);
        String heap = serverHeap != null ? serverHeap : dev.gantry.http.sizing.MachineDefaults.derive(serverCores,
                dev.gantry.http.sizing.Machine.current().memoryBytes()).heapOption();
        this.heapSource = serverHeap != null ? "heap set by --server-heap"
                : "Gantry's default heap for the server CPUs";
        // the launcher's options, on every server arm alike (yardsticks included)
        List<String> jvm = new ArrayList<>(dev.gantry.http.sizing.MachineDefaults.launcherOptions(
                Runtime.version().feature()));
        if (!heap.equals("jvm-default")) {
            jvm.add(heap);
        }
        jvm.addAll(extraJvm);
        this.serverJvm = List.copyOf(jvm);
        this.workloads = workloads;
        this.stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Plan plan = Plan.standard();
        Path models = Path.of("models");
        Path out = Path.of("benchmarks", "results");
        String serverCpus = "1";
        String clientCpus = "0";
        boolean pin = true;
        Duration warmup = null;
        Duration workloadWarmup = null;
        Duration runs = null;
        boolean dryRun = false;
        String serverHeap = null;
        boolean closedOnly = false;
        int pairedRounds = -1;
        List<String> extraJvm = new ArrayList<>();
        Set<String> arms = new TreeSet<>(Stream.concat(ServerArm.all().stream().map(ServerArm::name),
                Stream.of(INPROC)).toList());
        Set<Workload> workloads = new TreeSet<>(Arrays.asList(Workload.values()));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> plan = Plan.quick();
                case "--standard" -> plan = Plan.standard();
                case "--full" -> plan = Plan.full();
                case "--models" -> models = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--server-cpus" -> serverCpus = args[++i];
                case "--client-cpus" -> clientCpus = args[++i];
                case "--no-pin" -> pin = false;
                case "--warmup-seconds" -> warmup = seconds("--warmup-seconds", args[++i]);
                case "--workload-warmup-seconds" -> workloadWarmup = seconds("--workload-warmup-seconds", args[++i]);
                case "--dry-run" -> dryRun = true;
                case "--server-heap" -> serverHeap = args[++i];
                case "--jvm-opt" -> extraJvm.add(args[++i]);
                case "--run-seconds" -> runs = seconds("--run-seconds", args[++i]);
                case "--closed-only" -> closedOnly = true;
                case "--paired-rounds" -> pairedRounds = Integer.parseInt(args[++i]);
                case "--arms" -> arms = new TreeSet<>(Arrays.asList(args[++i].split(",")));
                case "--workloads" -> workloads = new TreeSet<>(Arrays.stream(args[++i].split(","))
                        .map(Workload::byLabel).toList());
                case "-h", "--help" -> {
                    System.out.println("see the javadoc of " + LoadBenchmark.class.getName());
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; see the javadoc of "
                        + LoadBenchmark.class.getName());
            }
        }
        plan = plan.withWarmups(warmup, workloadWarmup);
        if (runs != null) {
            plan = plan.withRuns(runs);
        }
        if (closedOnly) {
            plan = plan.closedOnly();
        }
        for (String a : arms) {
            if (!a.equals(INPROC) && ServerArm.all().stream().noneMatch(s -> s.name().equals(a))) {
                throw new IllegalArgumentException("unknown arm '" + a + "'; known: "
                        + ServerArm.all().stream().map(ServerArm::name).toList() + " and " + INPROC);
            }
        }
        if (!Files.isDirectory(models.resolve("mlp"))) {
            throw new IllegalArgumentException("no model repository at " + models.toAbsolutePath()
                    + "; run from the repository root or pass --models DIR");
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        boolean canPin = pin && Files.isExecutable(Path.of("/usr/bin/taskset")) && cpus >= 2;
        String pinning;
        if (canPin) {
            pinSelf(clientCpus);
            pinning = "servers pinned to CPU " + serverCpus + " (taskset -c " + serverCpus
                    + "), load generator pinned to CPU " + clientCpus;
        } else {
            serverCpus = "";
            pinning = "not pinned (" + (pin ? "taskset missing or fewer than 2 CPUs" : "--no-pin") + ")";
        }
        LoadBenchmark bench = new LoadBenchmark(plan, models, out, serverCpus, arms, workloads, cpus, serverHeap,
                extraJvm);
        bench.pairedRounds = pairedRounds >= 0 ? pairedRounds : plan.name().equals("quick") ? 0 : PAIRED_ROUNDS;
        bench.clientCpus = clientCpus;
        System.out.println("load benchmark, " + plan.name() + " mode; " + pinning);
        System.out.println(bench.describePlan());
        if (dryRun) {
            return;
        }
        Path report;
        try {
            report = bench.run(pinning);
        } finally {
            OtlpSink.stop();
        }
        System.out.println("report: " + report.toAbsolutePath());
    }

    private List<ServerArm> selectedArms() {
        return ServerArm.all().stream().filter(a -> arms.contains(a.name())).toList();
    }

    /** The arms, workloads and windows of this run and its estimated duration, for the console. */
    String describePlan() {
        StringBuilder sb = new StringBuilder();
        for (ServerArm arm : selectedArms()) {
            List<String> ws = arm.workloads().stream().filter(workloads::contains).map(Workload::label).toList();
            if (!ws.isEmpty()) {
                sb.append("  ").append(arm.name()).append(": ").append(String.join(", ", ws)).append('\n');
            }
        }
        if (arms.contains(INPROC)) {
            sb.append("  inproc: ").append(String.join(", ", plan.inprocWorkloads().stream()
                    .filter(workloads::contains).map(Workload::label).toList())).append('\n');
        }
        if (pairedRounds > 0) {
            sb.append(String.format(Locale.ROOT, "  then targets 16.1b, 16.2, 16.5 and 16.6 again, each pair's sides "
                    + "in turn (%d rounds of %d s windows at %d connections, 16.2's at one): about %d min per pair "
                    + "(16.1b's with 16.2's windows: %d), in the estimate%n",
                    pairedRounds, plan.closedRun().toSeconds(), PAIRED_CONNECTIONS, (pairSeconds() + 59) / 60,
                    (pairSeconds() + levelSeconds() + 59) / 60));
        }
        Duration estimate = plan.estimate(selectedArms(), arms.contains(INPROC), workloads)
                .plus(pairsEstimate());
        sb.append(String.format(Locale.ROOT, "warm-up %d s per server JVM (first workload), %d s per further workload,"
                        + " each up to %d s longer until the server's JIT settles (not in the estimate);"
                        + " closed loop %d s at concurrency %s; open loop %d s at %s x own max and %s x direct's max,"
                        + " after a %d s open-loop warm-up (not measured)%nestimated duration: %s (started %s)",
                plan.firstWarmup().toSeconds(), plan.warmup().toSeconds(), SETTLE_CAP.toSeconds(),
                plan.closedRun().toSeconds(), plan.concurrencies(), plan.openRun().toSeconds(), plan.fractions(),
                plan.referenceFractions(), plan.openWarmup().toSeconds(),
                minutes(estimate), LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm"))));
        return sb.toString();
    }

    private Path run(String pinning) throws Exception {
        String loadBefore = BenchHost.loadAverage();
        HostSteal.Ticks runStart = steal.now();
        long started = System.nanoTime();
        for (ServerArm arm : selectedArms()) {
            runArm(arm);
        }
        if (arms.contains(INPROC)) {
            List<Workload> selected = plan.inprocWorkloads().stream().filter(workloads::contains).toList();
            if (!selected.isEmpty()) {
                Path repo = subsetRepository(new TreeSet<>(selected.stream().map(Workload::model).toList()));
                try {
                    for (Workload w : selected) {
                        runInProcess(w, repo);
                    }
                } finally {
                    deleteTree(repo);
                }
            }
        }
        runPairs();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.println("took " + minutes(took));
        List<String> header = new ArrayList<>();
        if (plan.name().equals("quick")) {
            header.add("**quick mode: a smoke test of the harness, not a measurement** - warm-ups are far below the "
                    + "45-60 s a JVM server needs to settle; do not quote these figures");
        }
        header.addAll(List.of(
                "mode: " + plan.name() + "; warm-up " + plan.firstWarmup().toSeconds() + " s per server JVM (on its "
                        + "first workload) and " + plan.warmup().toSeconds() + " s per further workload, closed-loop "
                        + "runs " + plan.closedRun().toSeconds() + " s at concurrency " + plan.concurrencies()
                        + ", open-loop runs " + plan.openRun().toSeconds() + " s at " + plan.fractions()
                        + " x the arm's max plus " + plan.referenceFractions() + " x the direct server's max, "
                        + "after an unmeasured " + plan.openWarmup().toSeconds() + " s open-loop warm-up at the "
                        + "first rate; "
                        + "in-process: " + plan.inprocWarmup().toSeconds() + " s warm-up, batches "
                        + plan.inprocBatches() + "; hot swap: " + plan.steadyWindow().toSeconds() + " s steady, "
                        + plan.swapWindow().toSeconds() + " s swap window (a step every "
                        + plan.swapInterval().toSeconds() + " s); took " + minutes(took) + " (estimated "
                        + minutes(plan.estimate(selectedArms(), arms.contains(INPROC), workloads)
                                .plus(pairsEstimate())) + ")",
                "machine: " + cpus + " CPUs, "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", JDK "
                        + Runtime.version(),
                "pinning: " + pinning,
                "servers: one event loop, one ORT intra-op thread, two worker threads, JVM " + serverJvm + " ("
                        + heapSource + ", the same for every arm; resident memory is VmRSS of the "
                        + "server process); clients on loopback over "
                        + "HTTP/1.1 keep-alive, idle connections closed by the client after "
                        + HttpLoadGenerator.IDLE_LIMIT.toSeconds() + " s (or the server's shorter Keep-Alive timeout)",
                "open loop: latency from each request's intended send time (coordinated omission corrected); "
                        + "closed loop: service time, for capacity only; 'p99 service' is open-loop latency from the "
                        + "actual send, for comparison",
                "server logs: " + out.resolve("logs") + " (not committed)",
                "load average (1, 5, 15 min) before the run: " + loadBefore + "; after: " + BenchHost.loadAverage()
                        + "; above " + cpus + " means other processes competed for the CPUs and the figures are "
                        + "suspect",
                "stolen by the host (time the hypervisor ran other guests while this one's work waited, which the "
                        + "load average does not show): " + HostSteal.percent(steal.stolenSince(runStart))
                        + " of " + steal.cpus() + "'s time over the whole run; per arm and workload in the summary "
                        + "(the median of its measured windows, and the largest)"));
        if (!paired.isEmpty()) {
            header.add("alternating pairs: after the arms, targets 16.1b's, 16.2's, 16.5's and 16.6's two sides again, "
                    + pairedRounds + " rounds of " + plan.closedRun().toSeconds() + " s windows taken in turn at "
                    + PAIRED_CONNECTIONS + " connections (16.2: at one, on 16.1b's servers, each round after its 64-"
                    + "connection windows; 16.5: open loop at its rate, after 10 s unmeasured), after"
                    + " a " + plan.firstWarmup().toSeconds() + " s warm-up of each server (BuildComparison; its servers"
                    + " load only the workload's model)");
        }
        return new Report(stamp, header, results, referenceRates, hotSwaps, notes, memory).withPaired(paired)
                .withSteal(steal).write(out);
    }

    /*
     * Why pairs. The arms run one after another, minutes apart, and this shared machine's speed drifts by 2-4x
     * within minutes: a ratio of two arms' maxima (or tails) measures that drift as much as the servers. Targets
     * 16.1b, 16.2, 16.5 and 16.6 compare two arms near their goals, so the run measures each again with its two sides
     * taking turns in short windows on the same CPU, where drift falls on both alike, and the report shows both
     * readings. A pair that fails is a note in the report, never the loss of the arms' figures.
     */

    /** How long {@link #runPairs} takes, roughly: two warm-ups and the windows per pair. */
    private Duration pairsEstimate() {
        if (pairedRounds <= 0) {
            return Duration.ZERO;
        }
        boolean direct = arms.contains(DIRECT) && arms.contains("gantry-batching") && workloads.contains(Workload.MLP);
        int pairs = (direct ? 2 : 0) + (arms.contains(INPROC) && arms.contains("gantry-batching")
                && workloads.contains(Workload.MINILM_16) ? 1 : 0);
        return Duration.ofSeconds(pairs * pairSeconds() + (direct ? levelSeconds() : 0));
    }

    /** One level's windows in a pair: both sides' in every round (16.2's one-client level rides on 16.1b's pair). */
    private long levelSeconds() {
        return 2L * pairedRounds * (plan.closedRun().toSeconds() + 8);
    }

    /** One pair: two server warm-ups (or one and the in-process JVMs' own), then its level's windows in turn. */
    private long pairSeconds() {
        return 2 * (plan.firstWarmup().toSeconds() + 15) + levelSeconds();
    }

    /**
     * Target 16.1b's and 16.2's pair and 16.5's (direct, gantry) and 16.6's (in-process ORT at its best batch,
     * gantry), each in alternating windows.
     */
    private void runPairs() {
        if (pairedRounds <= 0) {
            return;
        }
        if (serverCpus.isEmpty()) {
            notes.add("alternating pairs: skipped, they need the servers and the load generator on CPUs of their own");
            return;
        }
        if (arms.contains(DIRECT) && arms.contains("gantry-batching") && workloads.contains(Workload.MLP)) {
            BuildComparison.Settings s = pairSettings(Workload.MLP);
            s.baseArm = BuildComparison.arm(DIRECT);
            // 16.2 rides on 16.1b's servers and warm-up: its one-client windows follow each round's 64-connection ones
            s.levels = new int[] {PAIRED_CONNECTIONS, 1};
            System.out.printf("%n[pair 16.1b, 16.2] gantry-batching / direct, MLP JSON, alternating%n");
            pair(s, new Issue16Targets.Paired("16.1b", "MLP JSON at " + PAIRED_CONNECTIONS
                    + " connections: gantry / direct, windows in turn", null), new Issue16Targets.Paired("16.2",
                    "MLP JSON at one client: p50, gantry vs direct, windows in turn", null));
            double rate = referenceRates.getOrDefault(Workload.MLP, List.of()).stream()
                    .mapToDouble(Double::doubleValue).max().orElse(0);
            if (rate > 0) {
                BuildComparison.Settings open = pairSettings(Workload.MLP);
                open.baseArm = BuildComparison.arm(DIRECT);
                open.openRate = rate;
                System.out.printf(Locale.ROOT, "%n[pair 16.5] gantry-batching vs direct, MLP JSON open loop at %.1f"
                        + " req/s, alternating%n", rate);
                pair(open, new Issue16Targets.Paired("16.5", String.format(Locale.ROOT, "MLP JSON open loop at %.0f/s "
                        + "(90%% of direct's max): p99, gantry vs direct, windows in turn", rate), null));
            }
        }
        if (arms.contains(INPROC) && arms.contains("gantry-batching") && workloads.contains(Workload.MINILM_16)) {
            int batch = results.stream().filter(r -> r.arm().equals(INPROC) && r.workload() == Workload.MINILM_16)
                    .max(java.util.Comparator.comparingDouble(r -> r.measurement().throughput()))
                    .map(r -> r.measurement().concurrency()).orElse(32);
            BuildComparison.Settings s = pairSettings(Workload.MINILM_16);
            s.inprocBatch = batch;
            System.out.printf("%n[pair 16.6] gantry-batching / in-process batch %d, MiniLM s16, alternating%n", batch);
            pair(s, new Issue16Targets.Paired("16.6", "MiniLM s16 items/s: gantry at " + PAIRED_CONNECTIONS
                    + " connections / in-process ORT at batch " + batch + " (this run's best), windows in turn", null));
        }
    }

    /**
     * Runs one pair; each target takes the level of the same index ({@code s.levels}). A failure becomes a note, so
     * the arms' report is still written.
     */
    private void pair(BuildComparison.Settings s, Issue16Targets.Paired... targets) {
        String ids = String.join(", ", java.util.Arrays.stream(targets).map(Issue16Targets.Paired::id).toList());
        try {
            List<BuildComparison.Level> levels = BuildComparison.compare(s);
            if (levels.size() != targets.length) {
                throw new IllegalStateException("measured " + levels.size() + " levels for " + targets.length
                        + " targets");
            }
            for (int i = 0; i < targets.length; i++) {
                paired.add(new Issue16Targets.Paired(targets[i].id(), targets[i].pair(), levels.get(i)));
            }
        } catch (Exception e) {
            System.out.println("[pair " + ids + "] failed: " + e);
            notes.add("alternating pair " + ids + ": failed (" + e.getMessage() + "); the rows are missing");
        }
    }

    private BuildComparison.Settings pairSettings(Workload w) {
        BuildComparison.Settings s = new BuildComparison.Settings();
        s.workload = w;
        s.levels = new int[] {PAIRED_CONNECTIONS};
        s.rounds = pairedRounds;
        s.window = plan.closedRun();
        s.warmup = plan.firstWarmup();
        s.serverCpus = serverCpus;
        s.clientCpus = clientCpus;
        s.models = models;
        return s;
    }

    private void runArm(ServerArm arm) throws Exception {
        List<Workload> selected = arm.workloads().stream().filter(workloads::contains).toList();
        if (selected.isEmpty()) {
            return;
        }
        if (!arm.available()) {
            notes.add(arm.name() + ": skipped, " + arm.mainClass() + " is not on the classpath");
            System.out.println(notes.getLast());
            return;
        }
        Path repo = subsetRepository(arm.models(selected));
        IsolationArm.prepare(arm, repo);
        int port = freePort();
        int grpcPort = freePort();
        while (grpcPort == port) {
            grpcPort = freePort();
        }
        Path log = out.resolve("logs").resolve(stamp + "-" + arm.name() + ".log");
        System.out.printf("[%s] starting %s on port %d (log %s; load average %s)%n", arm.name(), arm.mainClass(),
                port, log, BenchHost.loadAverage());
        Path data = Files.createTempDirectory("gantry-bench-data");
        ServerProcess server;
        try {
            server = ServerProcess.start(serverCpus, serverJvm, arm.mainClass(),
                    arm.argsFor(HOST, port, grpcPort, repo.toString(), data.toString()), log, arm.ready(),
                    Duration.ofMinutes(5));
        } catch (IllegalStateException e) {
            notes.add(arm.name() + ": server did not start: " + firstLine(e.getMessage()) + " (log " + log + ")");
            System.out.println(e.getMessage());
            deleteTree(data);
            deleteTree(repo);
            return;
        }
        current = server;
        try (HttpLoadGenerator gen = new HttpLoadGenerator(HOST, port, 256, Duration.ofSeconds(30), 20_000,
                HttpLoadGenerator.IDLE_LIMIT, grpcPort)) {
            boolean first = true;
            for (Workload w : selected) {
                try {
                    Duration warmup = first ? plan.firstWarmup() : plan.warmup();
                    first = false;
                    if (arm.scenario() == ServerArm.Scenario.HOT_SWAP) {
                        runHotSwap(arm, w, gen, port, warmup);
                    } else {
                        runWorkload(arm, w, gen, warmup);
                    }
                } catch (RuntimeException e) {
                    notes.add(arm.name() + " / " + w.label() + ": failed: " + e);
                    System.out.println(notes.getLast());
                }
                if (!server.isAlive()) {
                    notes.add(arm.name() + ": server exited during " + w.label() + "; see " + log);
                    break;
                }
            }
        } finally {
            memory.afterRun(arm.name(), server.pid());
            current = null;
            server.close();
            deleteTree(data);
            deleteTree(repo);
        }
    }

    /** Warm-up and closed-loop sweep; returns the max throughput, or NaN when the warm-up failed. */
    private double warmUpAndSweep(ServerArm arm, Workload w, HttpLoadGenerator gen, Duration warmup, String tag)
            throws InterruptedException {
        LoadRequest request = w.request();
        System.out.printf("%s warm-up %d s (load average %s)%n", tag, warmup.toSeconds(), BenchHost.loadAverage());
        Measurement warm = gen.closedLoop(request, 16, current != null ? ServerCpu.beforeSettling(warmup) : warmup);
        if (warm.ok() == 0) {
            if (current != null) {
                memory.afterWarmup(arm.name(), current.pid());
            }
            notes.add(arm.name() + " / " + w.label() + ": no request succeeded during warm-up (" + warm.errorKinds()
                    + "); skipped");
            System.out.println(notes.getLast());
            return Double.NaN;
        }
        if (current != null) {
            settle(arm, w, gen, request, tag);
            memory.afterWarmup(arm.name(), current.pid());
        }
        double max = 0;
        for (int c : plan.concurrencies()) {
            HostSteal.Ticks before = steal.now();
            Measurement m = gen.closedLoop(request, c, plan.closedRun());
            double stolen = steal.record(arm.name(), w, before, steal.now());
            results.add(new ArmResult(arm.name(), w, m));
            max = Math.max(max, m.throughput());
            print(tag, m, stolen);
        }
        return max;
    }

    /** The most load a warm-up adds for the server's JIT to settle ({@link ServerCpu#settle}). */
    static final Duration SETTLE_CAP = Duration.ofSeconds(45);

    /** Ends a warm-up once the server's JIT has settled; says so, and notes a server whose JIT did not. */
    private void settle(ServerArm arm, Workload w, HttpLoadGenerator gen, LoadRequest request, String tag) {
        ServerCpu.Settling settling;
        try {
            settling = ServerCpu.settle(current.pid(), l -> gen.closedLoop(request, 16, l), SETTLE_CAP);
        } catch (Exception e) {
            throw new IllegalStateException(tag + ": the warm-up's settling windows failed", e);
        }
        System.out.printf("%s %s%n", tag, settling == null ? "server process not readable" : settling);
        if (settling != null && !settling.settled()) {
            notes.add(arm.name() + " / " + w.label() + ": " + settling);
        }
    }

    private void runWorkload(ServerArm arm, Workload w, HttpLoadGenerator gen, Duration warmup)
            throws InterruptedException {
        LoadRequest request = w.request();
        String tag = "[" + arm.name() + " " + w.label() + "]";
        double max = warmUpAndSweep(arm, w, gen, warmup, tag);
        if (Double.isNaN(max)) {
            return;
        }
        List<Double> rates = new ArrayList<>();
        for (double f : plan.fractions()) {
            rates.add(f * max);
        }
        if (arm.name().equals(DIRECT)) {
            List<Double> refs = new ArrayList<>();
            for (double f : plan.referenceFractions()) {
                refs.add(f * max);
            }
            referenceRates.put(w, refs);
        } else {
            rates.addAll(referenceRates.getOrDefault(w, List.of()));
        }
        rates.removeIf(r -> r < 0.5);
        List<Double> sorted = rates.stream().distinct().sorted().toList();
        if (!sorted.isEmpty()) {
            openWarmUp(gen, request, sorted.getFirst(), tag);
        }
        for (double rate : sorted) {
            HostSteal.Ticks before = steal.now();
            Measurement m = gen.openLoop(request, rate, plan.openRun());
            double stolen = steal.record(arm.name(), w, before, steal.now());
            results.add(new ArmResult(arm.name(), w, m));
            print(tag, m, stolen);
        }
    }

    /*
     * The open-loop warm-up. A closed-loop sweep does not warm the generator's open-loop path: the first
     * open-loop window after one stalled for 0.3-0.8 s at its start even at 2,000 req/s, against Gantry and
     * against the canned-body ceiling server alike, and again for a fresh generator against a warm server: the
     * generator's own cold open-loop path on its one core (benchmarks/results/open-loop-warmup-20261130.txt),
     * whatever in it is cold (not its GC: pauses stayed under 40 ms). Unmeasured, so every measured open
     * window starts steady and the hot swap's steady window is a fair baseline for its swap window.
     */
    private void openWarmUp(HttpLoadGenerator gen, LoadRequest request, double rate, String tag)
            throws InterruptedException {
        Measurement m = gen.openLoop(request, rate, plan.openWarmup());
        System.out.printf(Locale.ROOT, "%s open-loop warm-up %d s at %.1f req/s (not measured): p99 %.2f ms, "
                + "%d errors%n", tag, plan.openWarmup().toSeconds(), rate, m.percentileMillis(99), m.errors());
    }

    /**
     * The most the hot swap arm offers: on two cores the generator's one core paces about this much open loop
     * without falling behind (at 33,700 req/s it dropped 10,708 requests over its backlog in the steady window).
     */
    static final long HOT_SWAP_MAX_RATE = 25_000;

    /**
     * The hot swap arm: the usual warm-up and closed-loop sweep, then {@link HotSwap} at half the max (at most
     * {@link #HOT_SWAP_MAX_RATE}): a steady open-loop window, then one in which traffic moves to the other version
     * and is rolled back.
     */
    private void runHotSwap(ServerArm arm, Workload w, HttpLoadGenerator gen, int port, Duration warmup)
            throws InterruptedException {
        String tag = "[" + arm.name() + " " + w.label() + "]";
        HotSwap hotSwap = new HotSwap(java.net.URI.create("http://" + HOST + ":" + port), w.model(),
                current != null ? current.pid() : -1, new GeneratorLoad(serverCpus.isEmpty() ? "" : clientCpus));
        try {
            // before the warm-up: see HotSwap.prepare
            hotSwap.prepare();
        } catch (java.io.IOException | RuntimeException e) {
            System.out.println(tag + " the admin API did not answer before the warm-up (" + e + "); the scenario "
                    + "reads it again");
        }
        double max = warmUpAndSweep(arm, w, gen, warmup, tag);
        if (Double.isNaN(max)) {
            return;
        }
        double rate = Math.min(0.5 * max, HOT_SWAP_MAX_RATE);
        System.out.printf(Locale.ROOT, "%s open loop at %.1f req/s: %d s steady, then %d s with traffic shifts and "
                + "a rollback%n", tag, rate, plan.steadyWindow().toSeconds(), plan.swapWindow().toSeconds());
        openWarmUp(gen, w.request(), rate, tag);
        HostSteal.Ticks before = steal.now();
        HotSwap.Result r = hotSwap.run(gen, w.request(), rate, plan.steadyWindow(), plan.swapInterval());
        // one reading for both windows: HotSwap runs them back to back
        double stolen = steal.record(arm.name(), w, before, steal.now());
        hotSwaps.add(r);
        if (r.steady() != null) {
            results.add(new ArmResult(arm.name(), w, r.steady(), "steady"));
            print(tag + " steady", r.steady(), stolen);
            System.out.println(tag + " steady: " + r.steadyWindow().load() + "; slowest 100 ms slices "
                    + r.steadyWindow().slowest());
        }
        if (r.swap() != null) {
            results.add(new ArmResult(arm.name(), w, r.swap(), "swap"));
            print(tag + " swap", r.swap(), stolen);
            System.out.println(tag + " answers per version during the swap window: " + r.swap().servedBy());
            System.out.println(tag + " swap: " + r.swapWindow().load() + "; slowest 100 ms slices "
                    + r.swapWindow().slowest());
        }
        r.error().ifPresent(e -> {
            notes.add(arm.name() + " / " + w.label() + ": " + e);
            System.out.println(notes.getLast());
        });
    }

    private void runInProcess(Workload w, Path repo) throws Exception {
        Path log = out.resolve("logs").resolve(stamp + "-inproc-" + w.label() + ".log");
        double seconds = plan.inprocSeconds();
        List<String> args = List.of("--models", repo.toString(), "--workload", w.label(), "--batches",
                String.join(",", plan.inprocBatches().stream().map(String::valueOf).toList()),
                "--warmup-seconds", Long.toString(plan.inprocWarmup().toSeconds()), "--seconds",
                Double.toString(seconds));
        System.out.printf("[inproc %s] batches %s%n", w.label(), plan.inprocBatches());
        List<String> command = ServerProcess.command(serverCpus, serverJvm, System.getProperty("java.class.path"),
                InProcessOrtArm.class.getName(), args);
        Files.createDirectories(log.getParent());
        // one reading for the child's whole run (its warm-up too): it measures its batches back to back
        HostSteal.Ticks before = steal.now();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long budget = plan.inprocWarmup().toSeconds() * 2 + (long) (seconds + 3) * plan.inprocBatches().size() + 120;
        boolean finished = p.waitFor(budget, TimeUnit.SECONDS);
        double stolen = steal.record(INPROC, w, before, steal.now());
        if (!finished) {
            p.destroyForcibly();
            notes.add("inproc / " + w.label() + ": did not finish in " + budget + " s; see " + log);
            return;
        }
        if (p.exitValue() != 0) {
            notes.add("inproc / " + w.label() + ": exited with " + p.exitValue() + "; see " + log);
            return;
        }
        for (Measurement m : InProcessOrtArm.parse(Files.readAllLines(log))) {
            results.add(new ArmResult(INPROC, w, m));
            System.out.printf("[inproc %s] batch %d: %.1f items/s, call p99 %.2f ms%n", w.label(), m.concurrency(),
                    m.throughput(), m.percentileMillis(99));
        }
        System.out.printf("[inproc %s] the host stole %s of %s over the run%n", w.label(), HostSteal.percent(stolen),
                steal.cpus());
    }

    private void print(String tag, Measurement m, double stolen) {
        System.out.printf(Locale.ROOT, "%s %-6s %s: %.1f req/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, ok %d, "
                        + "errors %d, the host stole %s of %s %s%n",
                tag, m.mode(), m.mode().equals("open") ? String.format(Locale.ROOT, "rate %.1f", m.targetRate())
                        : "concurrency " + m.concurrency(), m.throughput(), m.percentileMillis(50),
                m.percentileMillis(99), m.percentileMillis(99.9), m.ok(), m.errors(), HostSteal.percent(stolen),
                steal.cpus(), m.errorKinds().isEmpty() ? "" : m.errorKinds().toString());
    }

    /**
     * A model repository holding only the benchmark's models (symbolic links to the real files), so the servers
     * do not load the dozens of test models next to them.
     */
    private Path subsetRepository(Set<String> needed) throws IOException {
        Path repo = Files.createTempDirectory("gantry-bench-models");
        for (String model : needed) {
            Path src = models.resolve(model).toAbsolutePath();
            if (!Files.isDirectory(src)) {
                throw new IllegalArgumentException("model '" + model + "' is missing from " + models.toAbsolutePath());
            }
            Path dst = repo.resolve(model);
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.toList()) {
                    Path target = dst.resolve(src.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.createSymbolicLink(target, f);
                    }
                }
            }
        }
        return repo;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }


    /** Pins every thread of this JVM to {@code cpus}. */
    private static void pinSelf(String cpus) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-a", "-pc", cpus, Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            System.out.println("warning: taskset could not pin the load generator to CPU " + cpus);
        }
    }

    /** How many CPUs a taskset list like "1", "0-3" or "1,3" names. */
    static int cpuCount(String list) {
        return Math.max(1, HostSteal.cpuSet(list).size());
    }

    private static String minutes(Duration d) {
        return d.toMinutes() + " min " + d.toSecondsPart() + " s";
    }

    private static Duration seconds(String option, String value) {
        try {
            double s = Double.parseDouble(value);
            if (s < 0) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis((long) (s * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number of seconds >= 0, was '" + value + "'");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
