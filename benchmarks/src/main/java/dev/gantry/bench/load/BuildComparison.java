package dev.gantry.bench.load;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Two builds of Gantry side by side: a server from a base build's jar and one from this build, on the same CPU,
 * driven with one workload's request (MLP JSON unless {@code --workload}) in alternating closed-loop windows (base,
 * this, this, base, ...) at 16 connections and at one (or {@code --levels}), so load from other processes on a
 * shared machine falls on both alike. Prints each
 * window, the medians per build, and this build's ratios to the base (throughput, p50, p99, and the server's CPU
 * time per request from /proc/PID/stat: the figure a loaded machine distorts least, and the part of it the JIT's
 * compiler threads took). Each server's warm-up goes on, up to {@link #SETTLE_CAP} more, until its JIT took under
 * 2% of its CPU in a 5 s window ({@link ServerCpu}), so the windows measure compiled code on both sides.
 *
 * <p>Run from the repository root: {@code java -cp benchmarks/target/benchmarks.jar
 * dev.gantry.bench.load.BuildComparison --base-jar ../base/benchmarks/target/benchmarks.jar [--rounds 4]
 * [--seconds 8] [--warmup-seconds 20] [--server-cpus 1] [--client-cpus 0] [--models models]
 * [--server-args "--event-loops 1"] [--jfr DIR] [--this-jar JAR] [--base-models DIR] [--this-jvm-opt OPT]
 * [--base-jvm-opt OPT] [--this-env NAME=VALUE] [--base-env NAME=VALUE] [--no-jit-options] [--workload minilm-s128]
 * [--levels 64,16] [--this-extra-model NAME]} ({@code --this-jar}: the
 * second server from another jar instead of this one, to compare two other builds; {@code --base-models}: the base
 * server's model from another model repository, to compare two configurations of the model; {@code --this-jvm-opt} and {@code --base-jvm-opt}, each
 * repeatable: a JVM option for one server only, to compare two JVM configurations of one build; {@code --this-env}
 * and {@code --base-env}, each repeatable: an environment variable for one server only, e.g. glibc's malloc settings;
 * {@code --this-extra-model}, repeatable: a model this build's server loads besides the workload's, as the standard
 * run's gantry-batching arm loads every model of its workloads). Both servers run
 * with the launcher's JIT options ({@link dev.gantry.http.sizing.MachineDefaults#JIT_OPTIONS}) unless
 * {@code --no-jit-options}, and with its memory-access option
 * ({@link dev.gantry.http.sizing.MachineDefaults#memoryAccessOptions}; a later {@code --base-jvm-opt
 * --sun-misc-unsafe-memory-access=warn} takes it back for one server).
 *
 * <p>{@code --base-arm direct} (or {@code ceiling}) replaces the base build by that arm of the standard run, from
 * this jar with the standard run's arguments, so an issue 16 ratio (16.1a, 16.1b) is measured in alternating
 * windows instead of in arms minutes apart: {@code --base-arm direct --levels 64,16} is target 16.1b's pair. About
 * 1 min + rounds x 4 x seconds.
 *
 * <p>{@code --base-inproc-batch 32 --workload minilm-s16 --levels 64} puts the in-process arm at that batch size in
 * the base's place (a child JVM per window, on the server CPUs, 5 s of warm-up each): target 16.6's pair, Gantry's
 * items/s against ORT's alone at its best batch, in alternating windows.
 *
 * <p>{@code --open-rate R} makes every measured window open loop at R requests per second (after 10 s of it
 * unmeasured on each side), latency from each request's intended send time: {@code --base-arm direct --open-rate R}
 * with R = 90% of the direct server's max is target 16.5's pair, read as the two sides' p99.
 */
public final class BuildComparison {
    private static final String HOST = "127.0.0.1";

    private BuildComparison() {
    }

    public static void main(String[] args) throws Exception {
        compare(settings(args));
    }

    /** What one comparison runs: the command line's options, with its defaults. */
    static final class Settings {
        int rounds = 4;
        Duration window = Duration.ofSeconds(8);
        Duration warmup = Duration.ofSeconds(20);
        String serverCpus = "1";
        String clientCpus = "0";
        Path models = Path.of("models");
        Path baseModels;
        String baseJar;
        ServerArm baseArm;
        int inprocBatch;
        Path jfr;
        String thisJar = System.getProperty("java.class.path");
        List<String> serverArgs = List.of("--event-loops", "1", "--intra-op-threads", "1");
        List<String> thisJvm = new ArrayList<>();
        List<String> baseJvm = new ArrayList<>();
        java.util.Map<String, String> thisEnv = new java.util.LinkedHashMap<>();
        java.util.Map<String, String> baseEnv = new java.util.LinkedHashMap<>();
        boolean jitOptions = true;
        Workload workload = Workload.MLP;
        int[] levels = {16, 1};
        /** Above 0: every measured window is open loop at this many requests per second, not closed loop. */
        double openRate;
        /** Models this build's server loads besides the workload's (the base's repository is unchanged). */
        List<String> thisExtraModels = new ArrayList<>();
    }

    /**
     * The window's failed requests by kind on each side (a server's refusal, a timeout, the generator's own
     * backlog), or nothing when neither side had any: a pair's reading with errors is not met, and which side
     * failed and how says why.
     */
    static String errors(Measurement base, Measurement mine) {
        if (base.errors() == 0 && mine.errors() == 0) {
            return "";
        }
        return String.format(Locale.ROOT, "; failed requests: base %d %s, this %d %s", base.errors(),
                base.errorKinds(), mine.errors(), mine.errorKinds());
    }

    /**
     * An open-loop window's other two readings, which help say whose stall a high p99 was: the p99 from each
     * request's hand-off to the HTTP client (after any lateness of the pacer, but still including any wait for one
     * of the pooled connections) and how late the generator's pacer woke at worst.
     */
    static String sendHealth(Measurement base, Measurement mine) {
        return String.format(Locale.ROOT, "; p99 from the hand-off to the HTTP client: base %.3f, this %.3f ms; "
                        + "the generator's pacer woke at most %.3f ms (base), %.3f ms (this) late",
                base.serviceTimePercentileMillis(99), mine.serviceTimePercentileMillis(99),
                base.maxSendLagMicros() / 1000.0, mine.maxSendLagMicros() / 1000.0);
    }

    /**
     * One level's medians over the rounds: requests (or in-process items) per second, p50 and p99 in ms, server CPU
     * microseconds per request (NaN for the in-process side), this build's throughput and p99 over the base's,
     * round by round, each side's failed requests over all rounds, and the median share of the server CPU's time
     * the host stole in each side's windows (NaN when unknown), and the most of one CPU the load generator used
     * while pacing one of this build's windows that had failed requests (NaN when none had, or unknown): near 1, the
     * generator, not the server, most likely set that window's pace.
     */
    record Level(int connections, double baseRate, double thisRate, double baseP50, double thisP50, double baseP99,
                 double thisP99, double baseCpu, double thisCpu, double[] perRound, double[] perRoundP99,
                 long baseErrors, long thisErrors, double baseStolen, double thisStolen, double[] perRoundP50,
                 double thisGeneratorCpu) {
        /** A level whose generator load is not known. */
        Level(int connections, double baseRate, double thisRate, double baseP50, double thisP50, double baseP99,
              double thisP99, double baseCpu, double thisCpu, double[] perRound, double[] perRoundP99,
              long baseErrors, long thisErrors, double baseStolen, double thisStolen, double[] perRoundP50) {
            this(connections, baseRate, thisRate, baseP50, thisP50, baseP99, thisP99, baseCpu, thisCpu, perRound,
                    perRoundP99, baseErrors, thisErrors, baseStolen, thisStolen, perRoundP50, Double.NaN);
        }

        /** A level whose per-round p50 ratios are not kept. */
        Level(int connections, double baseRate, double thisRate, double baseP50, double thisP50, double baseP99,
              double thisP99, double baseCpu, double thisCpu, double[] perRound, double[] perRoundP99,
              long baseErrors, long thisErrors, double baseStolen, double thisStolen) {
            this(connections, baseRate, thisRate, baseP50, thisP50, baseP99, thisP99, baseCpu, thisCpu, perRound,
                    perRoundP99, baseErrors, thisErrors, baseStolen, thisStolen, new double[0]);
        }

        /** A level whose host steal is unknown. */
        Level(int connections, double baseRate, double thisRate, double baseP50, double thisP50, double baseP99,
              double thisP99, double baseCpu, double thisCpu, double[] perRound, double[] perRoundP99,
              long baseErrors, long thisErrors) {
            this(connections, baseRate, thisRate, baseP50, thisP50, baseP99, thisP99, baseCpu, thisCpu, perRound,
                    perRoundP99, baseErrors, thisErrors, Double.NaN, Double.NaN);
        }

        /** The host's steal in both sides' windows, as the report's rows append it; empty when unknown. */
        String stolen() {
            return Double.isNaN(baseStolen) || Double.isNaN(thisStolen) ? "" : "; the host stole "
                    + HostSteal.percent(thisStolen) + " vs " + HostSteal.percent(baseStolen) + " of the server CPU";
        }

        /** This build's median throughput over the base's. */
        double ratio() {
            return thisRate / baseRate;
        }

        /** This build's median server CPU per request over the base's (NaN when a side has no server process). */
        double cpuRatio() {
            return thisCpu / baseCpu;
        }
    }

    /**
     * Both servers' JVM options before their own: the launcher's ({@code MachineDefaults.launcherOptions}, as the
     * standard run gives every arm), less its JIT options when {@code jitOptions} is false, then the heap.
     */
    static List<String> serverJvm(boolean jitOptions, String heap) {
        List<String> jvm = new ArrayList<>(dev.gantry.http.sizing.MachineDefaults.launcherOptions(
                Runtime.version().feature()));
        if (!jitOptions) {
            jvm.removeAll(dev.gantry.http.sizing.MachineDefaults.JIT_OPTIONS);
        }
        jvm.add(heap);
        return jvm;
    }

    static Settings settings(String[] args) {
        Settings o = new Settings();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--base-jar" -> o.baseJar = args[++i];
                case "--base-arm" -> o.baseArm = arm(args[++i]);
                case "--base-inproc-batch" -> o.inprocBatch = Integer.parseInt(args[++i]);
                case "--rounds" -> o.rounds = Integer.parseInt(args[++i]);
                case "--seconds" -> o.window = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--warmup-seconds" -> o.warmup = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--server-cpus" -> o.serverCpus = args[++i];
                case "--client-cpus" -> o.clientCpus = args[++i];
                case "--models" -> o.models = Path.of(args[++i]);
                case "--base-models" -> o.baseModels = Path.of(args[++i]);
                case "--this-jar" -> o.thisJar = Path.of(args[++i]).toAbsolutePath().toString();
                case "--jfr" -> o.jfr = Path.of(args[++i]).toAbsolutePath();
                case "--server-args" -> o.serverArgs = List.of(args[++i].trim().split("\\s+"));
                case "--this-jvm-opt" -> o.thisJvm.add(jvmOption(args[++i]));
                case "--base-jvm-opt" -> o.baseJvm.add(jvmOption(args[++i]));
                case "--this-env" -> envVariable(o.thisEnv, args[++i]);
                case "--base-env" -> envVariable(o.baseEnv, args[++i]);
                case "--no-jit-options" -> o.jitOptions = false;
                case "--workload" -> o.workload = Workload.byLabel(args[++i]);
                case "--levels" -> o.levels = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--open-rate" -> o.openRate = Double.parseDouble(args[++i]);
                case "--this-extra-model" -> {
                    String m = args[++i];
                    if (!o.thisExtraModels.contains(m)) {
                        o.thisExtraModels.add(m);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; see the javadoc of "
                        + BuildComparison.class.getName());
            }
        }
        return o;
    }

    /** Runs the comparison, printing every window and each level's medians, and returns the medians. */
    static List<Level> compare(Settings o) throws Exception {
        List<Level> out = new ArrayList<>();
        if (o.inprocBatch > 0 && (o.baseArm != null || o.baseJar != null || !o.baseEnv.isEmpty())) {
            throw new IllegalArgumentException("--base-inproc-batch is the base: it takes no --base-arm, --base-jar"
                    + " or --base-env");
        }
        if (o.inprocBatch <= 0 && o.baseArm == null
                && (o.baseJar == null || !Files.isRegularFile(Path.of(o.baseJar)))) {
            throw new IllegalArgumentException("--base-jar must name the base build's benchmarks.jar, was "
                    + o.baseJar);
        }
        if (o.openRate < 0 || (o.openRate > 0 && o.inprocBatch > 0)) {
            throw new IllegalArgumentException("--open-rate takes a positive rate and two servers (no "
                    + "--base-inproc-batch), was " + o.openRate);
        }
        if (o.baseArm != null && (o.baseJar != null || o.baseModels != null || !o.baseJvm.isEmpty()
                || !o.baseEnv.isEmpty())) {
            throw new IllegalArgumentException("--base-arm runs that arm from this jar: it takes no --base-jar,"
                    + " --base-models, --base-jvm-opt or --base-env");
        }
        for (String m : o.thisExtraModels) {
            if (!Files.isDirectory(o.models.resolve(m))) {
                throw new IllegalArgumentException("--this-extra-model '" + m + "': " + o.models.resolve(m)
                        + " is not a model directory");
            }
        }
        new ProcessBuilder("taskset", "-a", "-pc", o.clientCpus, Long.toString(ProcessHandle.current().pid()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        Path repo = Files.createTempDirectory("gantry-compare-models");
        String model = o.workload.model();
        Files.createSymbolicLink(repo.resolve(model), o.models.resolve(model).toAbsolutePath());
        Path baseRepo = repo;
        if (o.baseModels != null || o.baseArm != null || !o.thisExtraModels.isEmpty()) {
            baseRepo = Files.createTempDirectory("gantry-compare-base-models");
            Path from = o.baseModels != null ? o.baseModels : o.models;
            for (String m : o.baseArm != null ? o.baseArm.models(List.of(o.workload)) : java.util.Set.of(model)) {
                Files.createSymbolicLink(baseRepo.resolve(m), from.resolve(m).toAbsolutePath());
            }
        }
        for (String m : o.thisExtraModels) {
            if (!m.equals(model)) {
                Files.createSymbolicLink(repo.resolve(m), o.models.resolve(m).toAbsolutePath());
            }
        }
        Path logs = Files.createTempDirectory("gantry-compare-logs");
        String heap = dev.gantry.http.sizing.MachineDefaults.derive(LoadBenchmark.cpuCount(o.serverCpus),
                dev.gantry.http.sizing.Machine.current().memoryBytes()).heapOption();
        List<String> jvm = serverJvm(o.jitOptions, heap);
        List<String> jvmBase = new ArrayList<>(jvm);
        jvmBase.addAll(o.baseJvm);
        List<String> jvmThis = new ArrayList<>(jvm);
        jvmThis.addAll(o.thisJvm);
        System.out.printf("JVM options: base %s; this %s%n", jvmBase, jvmThis);
        if (!o.baseEnv.isEmpty() || !o.thisEnv.isEmpty()) {
            System.out.printf("environment added: base %s; this %s%n", o.baseEnv, o.thisEnv);
        }
        List<List<Measurement>> base = new ArrayList<>();
        List<List<Measurement>> mine = new ArrayList<>();
        List<double[][]> cpu = new ArrayList<>();
        // the host's steal from the server CPU in each side's windows: [0] base, [1] this, per round
        List<double[][]> stolen = new ArrayList<>();
        // the share of a CPU the load generator used in each of this build's windows, per round
        List<double[]> generatorCpu = new ArrayList<>();
        // of each side's CPU per request: the part in the kernel, and the part on the Vert.x event loops
        List<double[][]> kernel = new ArrayList<>();
        List<double[][]> loops = new ArrayList<>();
        HostSteal steal = new HostSteal(o.serverCpus);
        GeneratorLoad generator = new GeneratorLoad(o.clientCpus);
        for (int ignored : o.levels) {
            cpu.add(new double[2][o.rounds]);
            kernel.add(new double[2][o.rounds]);
            loops.add(new double[2][o.rounds]);
            stolen.add(new double[2][o.rounds]);
            generatorCpu.add(new double[o.rounds]);
            base.add(new ArrayList<>());
            mine.add(new ArrayList<>());
        }
        if (o.baseArm != null) {
            System.out.println("base: the " + o.baseArm.name() + " arm (" + o.baseArm.description() + ")");
        }
        if (o.inprocBatch > 0) {
            System.out.println("base: the in-process arm at batch " + o.inprocBatch + ", a child JVM per window with"
                    + " 5 s of warm-up; its req/s below are items/s, as this build's are (one row per request)");
        }
        try (Side a = o.inprocBatch > 0
                ? new InProcess(o.workload, o.models, o.inprocBatch, o.serverCpus, jvmBase, logs)
                : o.baseArm != null ? startArm(o.baseArm, o.serverCpus, withJfr(jvmBase, o.jfr, "base", o.warmup),
                baseRepo, logs)
                : start("base", Path.of(o.baseJar).toAbsolutePath().toString(), o.serverCpus,
                withJfr(jvmBase, o.jfr, "base", o.warmup), o.serverArgs, o.baseEnv, baseRepo, logs);
             Side b = start("this", o.thisJar, o.serverCpus,
                     withJfr(jvmThis, o.jfr, "this", o.warmup), o.serverArgs, o.thisEnv, repo, logs)) {
            LoadRequest request = o.workload.request();
            System.out.printf("%s; warm-up %d s each (load average %s)%n", o.workload.label(), o.warmup.toSeconds(),
                    BenchHost.loadAverage());
            a.warmUp(request, o.levels[0], o.warmup, "base");
            b.warmUp(request, o.levels[0], o.warmup, "this build");
            if (o.openRate > 0) {
                // the first open-loop window after closed-loop load stalls for a moment (the generator's, not the
                // server's: results/open-loop-warmup-20261130.txt), so each side gets one unmeasured first
                System.out.printf(Locale.ROOT, "open loop at %.1f req/s: 10 s unmeasured on each side first%n",
                        o.openRate);
                a.open(request, o.openRate, Duration.ofSeconds(10));
                b.open(request, o.openRate, Duration.ofSeconds(10));
            }
            for (int r = 0; r < o.rounds; r++) {
                for (int l = 0; l < o.levels.length; l++) {
                    boolean baseFirst = (r + l) % 2 == 0;
                    Window first = measure(baseFirst ? a : b, o, request, o.levels[l], steal, generator);
                    Window second = measure(baseFirst ? b : a, o, request, o.levels[l], steal, generator);
                    Window wBase = baseFirst ? first : second;
                    Window wThis = baseFirst ? second : first;
                    Measurement mBase = wBase.m();
                    Measurement mThis = wThis.m();
                    // the generator's share in this build's window, kept where Gantry's side had failures
                    generatorCpu.get(l)[r] = mThis.errors() > 0
                            ? GeneratorLoad.cpuShare(wThis.gen0(), wThis.gen1()) : Double.NaN;
                    double cpuBase = micros(wBase.cpu0(), wBase.cpu1(), mBase);
                    double cpuThis = micros(wThis.cpu0(), wThis.cpu1(), mThis);
                    String partsBase = cpuParts(wBase.cpu0(), wBase.cpu1(), mBase);
                    String partsThis = cpuParts(wThis.cpu0(), wThis.cpu1(), mThis);
                    base.get(l).add(mBase);
                    mine.get(l).add(mThis);
                    cpu.get(l)[0][r] = cpuBase;
                    cpu.get(l)[1][r] = cpuThis;
                    kernel.get(l)[0][r] = kernelMicros(wBase.cpu0(), wBase.cpu1(), mBase);
                    kernel.get(l)[1][r] = kernelMicros(wThis.cpu0(), wThis.cpu1(), mThis);
                    loops.get(l)[0][r] = loopMicros(wBase.cpu0(), wBase.cpu1(), mBase);
                    loops.get(l)[1][r] = loopMicros(wThis.cpu0(), wThis.cpu1(), mThis);
                    stolen.get(l)[0][r] = wBase.stolen();
                    stolen.get(l)[1][r] = wThis.stolen();
                    System.out.printf(Locale.ROOT, "round %d, %s: base %.1f req/s p50 %.3f p99 %.3f ms "
                                    + "%.1f CPU us/req%s; this %.1f req/s p50 %.3f p99 %.3f ms %.1f CPU us/req%s; "
                                    + "this/base %.3fx throughput, %.3fx CPU per request (load average %s; the host "
                                    + "stole of %s: base %s, this %s)%s%n",
                            r + 1, label(o, l), mBase.throughput(), mBase.percentileMillis(50),
                            mBase.percentileMillis(99), cpuBase, partsBase, mThis.throughput(),
                            mThis.percentileMillis(50), mThis.percentileMillis(99), cpuThis, partsThis,
                            mThis.throughput() / mBase.throughput(), cpuThis / cpuBase, BenchHost.loadAverage(),
                            steal.cpus(), HostSteal.percent(stolen.get(l)[0][r]),
                            HostSteal.percent(stolen.get(l)[1][r]), errors(mBase, mThis)
                                    + (o.openRate > 0 ? sendHealth(mBase, mThis) : ""));
                    System.out.printf("  in the base's window %s; in this build's, %s%n",
                            GeneratorLoad.describe(wBase.gen0(), wBase.gen1(), generator.cpus()),
                            GeneratorLoad.describe(wThis.gen0(), wThis.gen1(), generator.cpus()));
                }
            }
            for (int l = 0; l < o.levels.length; l++) {
                double bRate = BenchHost.median(base.get(l).stream().mapToDouble(Measurement::throughput).toArray());
                double tRate = BenchHost.median(mine.get(l).stream().mapToDouble(Measurement::throughput).toArray());
                double bP50 = BenchHost.median(base.get(l).stream().mapToDouble(m -> m.percentileMillis(50)).toArray());
                double tP50 = BenchHost.median(mine.get(l).stream().mapToDouble(m -> m.percentileMillis(50)).toArray());
                double bP99 = BenchHost.median(base.get(l).stream().mapToDouble(m -> m.percentileMillis(99)).toArray());
                double tP99 = BenchHost.median(mine.get(l).stream().mapToDouble(m -> m.percentileMillis(99)).toArray());
                double[] perRound = new double[o.rounds];
                double[] perRoundP99 = new double[o.rounds];
                double[] perRoundP50 = new double[o.rounds];
                for (int r = 0; r < o.rounds; r++) {
                    perRound[r] = mine.get(l).get(r).throughput() / base.get(l).get(r).throughput();
                    perRoundP99[r] = mine.get(l).get(r).percentileMillis(99) / base.get(l).get(r).percentileMillis(99);
                    perRoundP50[r] = mine.get(l).get(r).percentileMillis(50) / base.get(l).get(r).percentileMillis(50);
                }
                double bCpu = BenchHost.median(cpu.get(l)[0]);
                double tCpu = BenchHost.median(cpu.get(l)[1]);
                double bStolen = BenchHost.median(stolen.get(l)[0]);
                double tStolen = BenchHost.median(stolen.get(l)[1]);
                out.add(new Level(o.levels[l], bRate, tRate, bP50, tP50, bP99, tP99, bCpu, tCpu, perRound,
                        perRoundP99, base.get(l).stream().mapToLong(Measurement::errors).sum(),
                        mine.get(l).stream().mapToLong(Measurement::errors).sum(), bStolen, tStolen, perRoundP50,
                        Arrays.stream(generatorCpu.get(l)).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN)));
                System.out.printf(Locale.ROOT, "median of %d rounds at %s: base %.1f req/s p50 %.3f p99 "
                                + "%.3f ms %.1f CPU us/req; this %.1f req/s p50 %.3f p99 %.3f ms %.1f CPU us/req; "
                                + "this/base throughput %.3fx (per-round ratios %s), p50 %.3fx, p99 %.3fx, server CPU "
                                + "per request %.3fx; the host stole of %s, median: base %s, this %s%n", o.rounds,
                        label(o, l), bRate, bP50, bP99, bCpu, tRate, tP50, tP99, tCpu, tRate / bRate,
                        Arrays.toString(Arrays.stream(perRound).map(x -> Math.round(x * 1000) / 1000.0).toArray()),
                        tP50 / bP50, tP99 / bP99, tCpu / bCpu, steal.cpus(), HostSteal.percent(bStolen),
                        HostSteal.percent(tStolen));
                System.out.printf(Locale.ROOT, "  of the CPU per request, median: base %.1f us in the kernel, %.1f us"
                                + " on the event loop; this %.1f us in the kernel, %.1f us on the event loop%n",
                        BenchHost.median(kernel.get(l)[0]), BenchHost.median(loops.get(l)[0]),
                        BenchHost.median(kernel.get(l)[1]), BenchHost.median(loops.get(l)[1]));
            }
            System.out.println("load average at the end: " + BenchHost.loadAverage());
            return out;
        } finally {
            try (Stream<Path> s = Stream.concat(Stream.concat(Files.walk(repo), Files.walk(logs)),
                    baseRepo == repo ? Stream.empty() : Files.walk(baseRepo))) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * One side's measured window with what was read around it: the server's CPU before and after, the host's steal
     * from the server CPUs, and the generator's load (in open loop, up to the end of pacing).
     */
    private record Window(Measurement m, ServerCpu cpu0, ServerCpu cpu1, double stolen,
                          GeneratorLoad.Snapshot gen0, GeneratorLoad.Snapshot gen1) {
    }

    private static Window measure(Side side, Settings o, LoadRequest request, int connections, HostSteal steal,
                                  GeneratorLoad generator) throws Exception {
        ServerCpu cpu0 = side.cpu();
        HostSteal.Ticks ticks = steal.now();
        GeneratorLoad.Snapshot gen0 = generator.now();
        AtomicReference<GeneratorLoad.Snapshot> paced = new AtomicReference<>();
        Measurement m = o.openRate > 0 ? side.open(request, o.openRate, o.window, () -> paced.set(generator.now()))
                : side.window(request, connections, o.window);
        GeneratorLoad.Snapshot gen1 = paced.get() != null ? paced.get() : generator.now();
        double stolen = steal.stolenSince(ticks);
        return new Window(m, cpu0, side.cpu(), stolen, gen0, gen1);
    }

    /** How a level's windows are printed: its connections, or the open loop's rate. */
    private static String label(Settings o, int level) {
        return o.openRate > 0 ? String.format(Locale.ROOT, "open loop at %.1f req/s", o.openRate)
                : o.levels[level] + " connections";
    }

    /** {@code NAME=VALUE} into {@code env}: an environment variable for one server only. */
    private static void envVariable(java.util.Map<String, String> env, String assignment) {
        int eq = assignment.indexOf('=');
        if (eq < 1 || !assignment.substring(0, eq).matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("an environment variable is NAME=VALUE, was '" + assignment + "'");
        }
        env.put(assignment.substring(0, eq), assignment.substring(eq + 1));
    }

    private static String jvmOption(String option) {
        if (!option.startsWith("-")) {
            throw new IllegalArgumentException("a JVM option starts with '-', was '" + option + "'");
        }
        return option;
    }

    /**
     * With {@code --jfr DIR}: each server records a JFR profile ({@code settings=profile}) into DIR/NAME.jfr from
     * about the end of both warm-ups (2 x warm-up after start; a JIT that settles late moves the end) until it
     * stops, so the two profiles cover the same alternating windows.
     */
    private static List<String> withJfr(List<String> jvm, Path dir, String name, Duration warmup) throws IOException {
        if (dir == null) {
            return jvm;
        }
        Files.createDirectories(dir);
        List<String> all = new ArrayList<>(jvm);
        all.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,delay=" + (2 * warmup.toSeconds() + 10) + "s,filename="
                + dir.resolve(name + ".jfr"));
        return all;
    }

    /** One side of the comparison: measured one window at a time. */
    private interface Side extends AutoCloseable {
        Measurement window(LoadRequest request, int connections, Duration length) throws Exception;

        /** An open-loop window at a fixed arrival rate, latency from each request's intended send time. */
        default Measurement open(LoadRequest request, double rate, Duration length) throws Exception {
            return open(request, rate, length, () -> { });
        }

        /** The same, running {@code paced} once the last request is due, before the answers are awaited. */
        default Measurement open(LoadRequest request, double rate, Duration length, Runnable paced) throws Exception {
            throw new UnsupportedOperationException("this side has no open loop");
        }

        /**
         * The warm-up: {@code length} of load, then more (up to {@link #SETTLE_CAP}) until the server's JIT has
         * settled ({@link ServerCpu#settle}).
         */
        default void warmUp(LoadRequest request, int connections, Duration length, String name) throws Exception {
            window(request, connections, ServerCpu.beforeSettling(length));
            ServerCpu.Settling settling = ServerCpu.settle(pid(), l -> window(request, connections, l), SETTLE_CAP);
            System.out.println(name + ": " + (settling == null ? "its process could not be read" : settling));
        }

        /** The side's server process. */
        long pid();

        /** The side's CPU time so far, or null when it has no process to read. */
        default ServerCpu cpu() throws IOException {
            return ServerCpu.of(pid());
        }
    }

    /** The most load a side's warm-up adds for its JIT to settle. */
    static final Duration SETTLE_CAP = Duration.ofSeconds(60);

    /**
     * The in-process arm at one batch size as a side: each window is a child JVM on the server CPUs that calls ORT
     * in a loop (after a 5 s warm-up) and reports items per second; the connections are ignored.
     */
    private record InProcess(Workload workload, Path models, int batch, String cpus, List<String> jvm, Path logs)
            implements Side {
        @Override
        public Measurement window(LoadRequest request, int connections, Duration length) throws Exception {
            List<String> command = ServerProcess.command(cpus, jvm, System.getProperty("java.class.path"),
                    InProcessOrtArm.class.getName(), List.of("--models", models.toString(), "--workload",
                            workload.label(), "--batches", Integer.toString(batch), "--warmup-seconds", "5",
                            "--seconds", Long.toString(length.toSeconds())));
            Path log = logs.resolve("inproc.log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(length.toSeconds() + 120, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("the in-process arm failed; its output:\n" + Files.readString(log));
            }
            return InProcessOrtArm.parse(Files.readAllLines(log)).getFirst();
        }

        /** Each window warms its own JVM. */
        @Override
        public void warmUp(LoadRequest request, int connections, Duration length, String name) {
        }

        @Override
        public long pid() {
            return -1;
        }

        @Override
        public ServerCpu cpu() {
            return null;
        }

        @Override
        public void close() {
        }
    }

    private record Started(ServerProcess server, HttpLoadGenerator gen) implements Side {
        @Override
        public Measurement window(LoadRequest request, int connections, Duration length) throws InterruptedException {
            return gen.closedLoop(request, connections, length);
        }

        @Override
        public Measurement open(LoadRequest request, double rate, Duration length, Runnable paced)
                throws InterruptedException {
            return gen.openLoop(request, rate, length, paced);
        }

        @Override
        public long pid() {
            return server.pid();
        }

        @Override
        public void close() throws Exception {
            gen.close();
            server.close();
        }
    }

    private static Started start(String name, String classpath, String cpus, List<String> jvm, List<String> extra,
                                 java.util.Map<String, String> env, Path repo, Path logs)
            throws IOException, InterruptedException {
        return launch(name + " build", "server-" + name, cpus, jvm, env, classpath, ServerArm.GANTRY_MAIN,
                (port, data) -> {
                    List<String> args = new ArrayList<>(List.of("serve", "--host", HOST, "--port",
                            Integer.toString(port), "--grpc-port", "-1", "--models", repo.toString(), "--data",
                            data.toString()));
                    args.addAll(extra);
                    return args;
                }, Pattern.compile("Gantry ready on http://"), logs);
    }

    static ServerArm arm(String name) {
        return ServerArm.all().stream()
                .filter(a -> a.name().equals(name) && a.scenario() == ServerArm.Scenario.SWEEP
                        && !a.mainClass().equals(ServerArm.GANTRY_MAIN))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("--base-arm takes a yardstick arm of the"
                        + " standard run (direct or ceiling), was '" + name + "'"));
    }

    /** A yardstick arm of the standard run, started from this jar with that run's arguments. */
    private static Started startArm(ServerArm arm, String cpus, List<String> jvm, Path repo, Path logs)
            throws IOException, InterruptedException {
        return launch("base (" + arm.name() + ")", "server-base", cpus, jvm, java.util.Map.of(),
                System.getProperty("java.class.path"),
                arm.mainClass(), (port, data) -> arm.argsFor(HOST, port, -1, repo.toString(), data.toString()),
                arm.ready(), logs);
    }

    /** Starts a server on a free port with a data directory of its own, and a load generator for it. */
    private static Started launch(String label, String logName, String cpus, List<String> jvm,
                                  java.util.Map<String, String> env, String classpath, String mainClass, java.util.function.BiFunction<Integer, Path, List<String>> args,
                                  Pattern ready, Path logs) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = Files.createTempDirectory(logs, "data-" + logName);
        ServerProcess server = ServerProcess.start(cpus, jvm, classpath, mainClass, args.apply(port, data), env,
                logs.resolve(logName + ".log"), ready, Duration.ofMinutes(3));
        System.out.println(label + ": server on port " + port);
        return new Started(server, new HttpLoadGenerator(HOST, port, 64, Duration.ofSeconds(30), 20_000));
    }

    /** Server CPU microseconds per answered request between two samples; NaN without a process to read. */
    private static double micros(ServerCpu before, ServerCpu after, Measurement m) {
        if (before == null || after == null) {
            return Double.NaN;
        }
        return ServerCpu.microsPerAnswer(after.totalTicks() - before.totalTicks(), m);
    }

    /**
     * ", JIT x.x%, kernel y.y us, event loop z.z us": the JIT's share of the server's CPU between two samples, and
     * the microseconds per answered request spent in the kernel and on the event loops; empty without a process.
     */
    private static String cpuParts(ServerCpu before, ServerCpu after, Measurement m) {
        return before == null || after == null ? ""
                : String.format(Locale.ROOT, ", JIT %.1f%%, kernel %.1f us, event loop %.1f us",
                        after.jitShareSince(before) * 100, kernelMicros(before, after, m), loopMicros(before, after, m));
    }

    /** Server CPU microseconds in the kernel per answered request between two samples; NaN without a process. */
    private static double kernelMicros(ServerCpu before, ServerCpu after, Measurement m) {
        return before == null || after == null ? Double.NaN
                : ServerCpu.microsPerAnswer(after.systemTicks() - before.systemTicks(), m);
    }

    /** Event-loop CPU microseconds per answered request between two samples; NaN without a process. */
    private static double loopMicros(ServerCpu before, ServerCpu after, Measurement m) {
        return before == null || after == null ? Double.NaN
                : ServerCpu.microsPerAnswer(after.eventLoopTicks() - before.eventLoopTicks(), m);
    }
}
