package dev.gantry.bench.jmh;

import ai.onnxruntime.OrtException;
import dev.gantry.bench.oip.ModelDirs;
import dev.gantry.bench.oip.Payloads;
import dev.gantry.bench.oip.RawOrt;
import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtModelLoader;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.scheduling.ModelExecutor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The mlp model ([batch,64] FP32 to [batch,8] FP32) run one call at a time on one thread, two ways on
 * identical inputs: Gantry's executor (model loaded through DJL's Criteria, run on the session DJL made, with
 * Gantry's tensor conversion) against an {@code OrtSession} created directly with ONNX Runtime and the same
 * session options. Both include building the input tensors and copying the outputs out. The difference is
 * what Gantry's engine layer costs per call; batch 1 shows the fixed part, batch 32 the per-row part.
 *
 * <p>Run from the repository root: {@code java -jar benchmarks/target/benchmarks.jar DjlVsRawOrtBenchmark}
 * (the model is read from {@code models/mlp/1/model.onnx}; elsewhere add
 * {@code -jvmArgsAppend -Dgantry.models=/path/to/models}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class DjlVsRawOrtBenchmark {
    @Param({"1", "32"})
    public int batch;

    private ModelExecutor gantry;
    private RawOrt raw;
    private List<Tensor> inputs;

    @Setup
    public void setUp() throws OrtException {
        Path dir = ModelDirs.version1(ModelDirs.repository(), "mlp");
        gantry = OrtModelLoader.load(dir, "model.onnx", ExecutionSettings.cpuDefaults());
        raw = RawOrt.open(dir.resolve("model.onnx"), ExecutionSettings.cpuDefaults().intraOpThreads());
        inputs = Payloads.mlp(batch);
        /* Guard: both paths must produce the same scores, or they are not doing the same work. */
        float[] fromRaw = (float[]) raw.run(inputs)[0];
        var fromGantry = gantry.run(inputs, Set.of()).get(0).data().asFloatBuffer();
        float[] g = new float[fromGantry.remaining()];
        fromGantry.get(g);
        if (!java.util.Arrays.equals(fromRaw, g)) {
            throw new IllegalStateException("Gantry's executor and raw ORT disagree on the mlp outputs");
        }
    }

    @TearDown
    public void tearDown() throws OrtException {
        gantry.close();
        raw.close();
    }

    @Benchmark
    public List<Tensor> gantryExecutor() {
        return gantry.run(inputs, Set.of());
    }

    @Benchmark
    public Object[] rawOrtSession() throws OrtException {
        return raw.run(inputs);
    }
}
