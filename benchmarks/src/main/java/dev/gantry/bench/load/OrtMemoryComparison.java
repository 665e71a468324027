package dev.gantry.bench.load;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtMemory;
import dev.gantry.core.engine.OrtModelLoader;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.scheduling.ModelExecutor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * ORT memory modes (and C-heap tunables) side by side: each variant is a child JVM pinned like a server that loads
 * the MLP and the MiniLM through Gantry's loader with that mode and runs, on one thread as a scheduler does, the
 * MLP at batch 64, the MiniLM at batch 32 x 16 tokens and at batch 32 x 128 tokens, then the 600 KB identity at
 * batch 16, for a few seconds each. It prints items per second per phase and the child's resident memory after
 * each phase. Variants alternate within each round, so drift of the shared machine hits them alike; the summary
 * gives the median over rounds, as ratios to the first variant.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar dev.gantry.bench.load.OrtMemoryComparison
 * --models models --rounds 2 --seconds 5 [--cpus 1] [--variants arena,no-arena,...]}. A variant is a mode,
 * optionally with {@code +glibc} for {@code MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072} in the child's
 * environment.
 */
public final class OrtMemoryComparison {
    static final String PHASE = "PHASE ";
    private static final String GLIBC = "+glibc";
    private static final Map<String, String> GLIBC_ENV = Map.of("MALLOC_ARENA_MAX", "2",
            "MALLOC_MMAP_THRESHOLD_", "131072");

    private OrtMemoryComparison() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(Path.of(args[1]), OrtMemory.of(args[2]), Double.parseDouble(args[3]));
            return;
        }
        String models = "models";
        int rounds = 2;
        double seconds = 5;
        String cpus = "1";
        List<String> variants = List.of("arena", "arena-shrink", "no-arena", "no-arena" + GLIBC);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> models = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--cpus" -> cpus = args[++i];
                case "--variants" -> variants = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        System.out.printf(Locale.ROOT, "ORT memory comparison: %d rounds of %s, %.0f s per phase, pinned to CPU %s; "
                + "load average %s%n", rounds, variants, seconds, cpus, BenchHost.loadAverage());
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int r = 1; r <= rounds; r++) {
            for (String v : variants) {
                double[] figures = run(v, models, seconds, cpus);
                results.computeIfAbsent(v, k -> new ArrayList<>()).add(figures);
                System.out.printf(Locale.ROOT, "round %d %-20s %s (load average %s)%n", r, v, format(figures),
                        BenchHost.loadAverage());
            }
        }
        System.out.println("\nmedian over rounds (items/s per phase; RSS MB after each phase), ratio to "
                + variants.getFirst() + ":");
        double[] base = medians(results.get(variants.getFirst()));
        for (String v : variants) {
            double[] m = medians(results.get(v));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < m.length; i++) {
                sb.append(String.format(Locale.ROOT, " %s %.1f (%.2fx)", LABELS[i], m[i], m[i] / base[i]));
            }
            System.out.printf(Locale.ROOT, "%-20s%s%n", v, sb);
        }
        System.out.println("load average after: " + BenchHost.loadAverage());
    }

    private static final String[] LABELS = {"mlp/s", "s16/s", "s128/s", "600k/s", "RSS-mlp", "RSS-s16", "RSS-s128",
            "RSS-600k"};

    private static String format(double[] f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < f.length; i++) {
            sb.append(String.format(Locale.ROOT, "%s %.1f ", LABELS[i], f[i]));
        }
        return sb.toString().trim();
    }

    private static double[] medians(List<double[]> rows) {
        double[] m = new double[rows.getFirst().length];
        for (int i = 0; i < m.length; i++) {
            final int col = i;
            m[i] = BenchHost.median(rows.stream().mapToDouble(r -> r[col]).toArray());
        }
        return m;
    }

    /** Items/s of the four phases, then RSS MB after each. */
    private static double[] run(String variant, String models, double seconds, String cpus) throws Exception {
        boolean glibc = variant.endsWith(GLIBC);
        String mode = glibc ? variant.substring(0, variant.length() - GLIBC.length()) : variant;
        List<String> cmd = new ArrayList<>(List.of("taskset", "-c", cpus,
                ProcessHandle.current().info().command().orElse("java"), "-Xmx384m",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                OrtMemoryComparison.class.getName(), "--child", models, mode, Double.toString(seconds)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (glibc) {
            pb.environment().putAll(GLIBC_ENV);
        }
        Process p = pb.start();
        double[] figures = new double[8];
        int phase = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith(PHASE)) {
                    String[] f = line.substring(PHASE.length()).split(" ");
                    figures[phase] = Double.parseDouble(f[1]);
                    figures[4 + phase] = Double.parseDouble(f[2]);
                    phase++;
                }
            }
        }
        if (p.waitFor() != 0 || phase != 4) {
            throw new IllegalStateException(variant + ": child exited with " + p.exitValue() + " after " + phase
                    + " phases");
        }
        return figures;
    }

    private static void child(Path models, OrtMemory mode, double seconds) throws Exception {
        ExecutionSettings settings = new ExecutionSettings(1, 1, false, OptionalInt.empty(), mode);
        Thread t = Thread.ofPlatform().name("scheduler").start(() -> {
            try (ModelExecutor mlp = OrtModelLoader.load(models.resolve("mlp/1"), "model.onnx", settings);
                 ModelExecutor minilm = OrtModelLoader.load(models.resolve("minilm/1"), "model.onnx", settings);
                 ModelExecutor identity = OrtModelLoader.load(models.resolve("identity_fp32/1"), "model.onnx",
                         settings)) {
                phase("mlp", mlp, Workload.MLP.inputs(64), 64, seconds);
                phase("minilm-s16", minilm, Workload.MINILM_16.inputs(32), 32, seconds);
                phase("minilm-s128", minilm, Workload.MINILM_128.inputs(32), 32, seconds);
                phase("fp32-600k", identity, Workload.LARGE_JSON.inputs(16), 16, seconds);
            }
        });
        t.join();
    }

    private static void phase(String name, ModelExecutor model, List<Tensor> inputs, int batch, double seconds) {
        model.run(inputs, Set.of());
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long calls = 0;
        while (System.nanoTime() < deadline) {
            model.run(inputs, Set.of());
            calls++;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long rssKib = ResidentMemory.rssKib(ProcessHandle.current().pid()).orElse(0);
        System.out.printf(Locale.ROOT, "%s%s %.2f %.1f%n", PHASE, name, calls * batch / elapsed, rssKib / 1024.0);
    }
}
