package dev.gantry.bench.load;

import dev.gantry.bench.oip.RawOrt;
import dev.gantry.core.inference.Tensor;
import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling: ONNX Runtime called in-process, no HTTP, one thread, on pre-built batches of each size in turn.
 * Reports items per second per batch size; the best is what the hardware can do for the model. For the
 * {@code minilm-embeddings} workload each call also tokenizes and pools, as Gantry's {@code /v1/embeddings}
 * does, so its items are sentences per second with the same tokenizer. Started by
 * {@link LoadBenchmark} as a child JVM pinned like the servers.
 *
 * <p>Run alone: {@code java -cp benchmarks/target/benchmarks.jar dev.gantry.bench.load.InProcessOrtArm
 * --models models --workload mlp --batches 1,8,32 --warmup-seconds 5 --seconds 5}
 */
public final class InProcessOrtArm {
    /** Prefix of the one line per batch size that {@link #parse} reads back. */
    static final String RESULT = "RESULT ";

    private InProcessOrtArm() {
    }

    public static void main(String[] args) throws Exception {
        Path models = Path.of("models");
        Workload workload = Workload.MLP;
        List<Integer> batches = List.of(1, 8, 32);
        double warmup = 5;
        double seconds = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> models = Path.of(args[++i]);
                case "--workload" -> workload = Workload.byLabel(args[++i]);
                case "--batches" -> batches = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf)
                        .toList();
                case "--warmup-seconds" -> warmup = Double.parseDouble(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        if (workload == Workload.EMBEDDINGS) {
            try (dev.gantry.bench.text.InProcessEmbedder embedder = new dev.gantry.bench.text.InProcessEmbedder(
                    models.resolve(workload.model()).resolve("1"), 256)) {
                measure(batches, warmup, seconds, batch -> {
                    List<String> texts = java.util.Collections.nCopies(batch,
                            dev.gantry.bench.text.InProcessEmbedder.SENTENCE);
                    return () -> embedder.embed(texts);
                });
            }
            return;
        }
        try (RawOrt ort = RawOrt.open(models.resolve(workload.model()).resolve("1").resolve("model.onnx"), 1)) {
            Workload w = workload;
            measure(batches, warmup, seconds, batch -> {
                List<Tensor> inputs = w.inputs(batch);
                return () -> ort.run(inputs);
            });
        }
    }

    /** One call of a batch: ORT alone, or (embeddings) tokenizer, ORT and pooling. */
    private interface Call {
        void run() throws Exception;
    }

    private static void measure(List<Integer> batches, double warmup, double seconds,
                                java.util.function.IntFunction<Call> callOf) throws Exception {
        int biggest = batches.stream().max(Integer::compare).orElseThrow();
        loop(callOf.apply(biggest), warmup, null);
        for (int batch : batches) {
            Call call = callOf.apply(batch);
            loop(call, Math.min(warmup, 2), null);
            Histogram calls = new Histogram(TimeUnit.MINUTES.toMicros(5), 3);
            long start = System.nanoTime();
            long n = loop(call, seconds, calls);
            double elapsed = (System.nanoTime() - start) / 1e9;
            ByteBuffer buf = ByteBuffer.allocate(calls.getNeededByteBufferCapacity());
            int len = calls.encodeIntoCompressedByteBuffer(buf);
            byte[] bytes = new byte[len];
            buf.flip().get(bytes);
            System.out.printf("%sbatch=%d calls=%d elapsed=%.6f histogram=%s%n", RESULT, batch, n, elapsed,
                    Base64.getEncoder().encodeToString(bytes));
        }
    }

    private static long loop(Call call, double seconds, Histogram calls) throws Exception {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long n = 0;
        long now = System.nanoTime();
        while (now < deadline) {
            call.run();
            long end = System.nanoTime();
            if (calls != null) {
                calls.recordValue(Math.min(calls.getHighestTrackableValue(), TimeUnit.NANOSECONDS.toMicros(end - now)));
            }
            now = end;
            n++;
        }
        return n;
    }

    /** Reads the RESULT lines of a run's output into one measurement per batch size (items/s as throughput). */
    static List<Measurement> parse(List<String> lines) throws java.util.zip.DataFormatException {
        List<Measurement> out = new ArrayList<>();
        for (String line : lines) {
            if (!line.startsWith(RESULT)) {
                continue;
            }
            java.util.Map<String, String> kv = new java.util.HashMap<>();
            for (String part : line.substring(RESULT.length()).split(" ")) {
                int eq = part.indexOf('=');
                kv.put(part.substring(0, eq), part.substring(eq + 1));
            }
            int batch = Integer.parseInt(kv.get("batch"));
            long calls = Long.parseLong(kv.get("calls"));
            double elapsed = Double.parseDouble(kv.get("elapsed"));
            Histogram h = Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(kv.get("histogram"))), 0);
            out.add(new Measurement("inproc", 0, batch, elapsed, calls * batch, calls * batch, 0,
                    java.util.Map.of(), h, h, 0));
        }
        return out;
    }
}
