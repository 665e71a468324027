package dev.gantry.bench.jmh;

import dev.gantry.bench.oip.Payloads;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.metrics.InferenceMetrics;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.core.scheduling.DynamicBatchScheduler;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.core.scheduling.Ticker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@link DynamicBatchScheduler} alone: producers enqueue one-row requests and wait for the answer, against a
 * stand-in model that burns a fixed amount of CPU per execution plus per row ({@code cost}, in JMH
 * {@code Blackhole.consumeCPU} tokens). With {@code cost=0:0} the
 * score is the scheduler's own enqueue-to-answer overhead (queue, hand-off to the instance thread, stacking,
 * splitting, completing the future); with a cost it shows what batching buys once executions are not free.
 * One instance thread; 1, 8 and 64 producer threads (one benchmark method each, since JMH fixes the thread
 * count per method); {@code batching=false} is the unbatched policy on the same scheduler.
 *
 * <p>Throughput is requests per second over all producers; the sample-time mode gives the per-request
 * latency distribution as a closed loop sees it (no coordinated-omission correction: JMH waits for each
 * answer before the next request, so read it as service time, not as a latency claim).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar BatcherBenchmark}
 * (e.g. {@code -p batching=true -p cost=20000:2000 .*producers64} for one configuration).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class BatcherBenchmark {
    @Param({"true", "false"})
    public boolean batching;

    /**
     * CPU the stand-in model burns, as {@code perExecution:perRow} in consumeCPU tokens (roughly 1-3 ns
     * each): {@code 0:0} isolates the scheduler; {@code 20000:2000} is a small model where a batch of 64
     * costs about 7x one row.
     */
    @Param({"0:0", "20000:2000"})
    public String cost;

    private DynamicBatchScheduler scheduler;
    private ScheduledExecutorService timers;
    private InferenceRequest request;

    @Setup(Level.Trial)
    public void setUp() {
        timers = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon(true).factory());
        BatchPolicy policy = batching
                ? new BatchPolicy(64, true, 0, List.of(), 100_000, 0, 1, /* executionTimeoutMicros= */ 0)
                : BatchPolicy.unbatched(64, 100_000, 1);
        ModelId id = new ModelId("burn", 1);
        String[] parts = cost.split(":");
        var executor = new BurningExecutor(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        scheduler = DynamicBatchScheduler.start(id, executor, policy,
                InferenceMetrics.noop(id), timers, Ticker.system());
        request = InferenceRequest.of(Payloads.mlp(1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.stop(Duration.ofSeconds(5)).join();
        timers.shutdownNow();
    }

    @Benchmark
    @Threads(1)
    public InferenceResponse producers01() {
        return scheduler.enqueue(request).join();
    }

    @Benchmark
    @Threads(8)
    public InferenceResponse producers08() {
        return scheduler.enqueue(request).join();
    }

    @Benchmark
    @Threads(64)
    public InferenceResponse producers64() {
        return scheduler.enqueue(request).join();
    }

    /** A model that returns its input as {@code scores} after burning CPU for the batch and for each row. */
    static final class BurningExecutor implements ModelExecutor {
        private final long batchCost;
        private final long rowCost;
        private final ModelSignature signature = new ModelSignature(
                List.of(TensorSpec.of("features", DataType.FP32, -1, Payloads.MLP_FEATURES)),
                List.of(TensorSpec.of("scores", DataType.FP32, -1, Payloads.MLP_FEATURES)));

        BurningExecutor(long batchCost, long rowCost) {
            this.batchCost = batchCost;
            this.rowCost = rowCost;
        }

        @Override
        public ModelSignature signature() {
            return signature;
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
            Tensor in = inputs.get(0);
            long cost = batchCost + rowCost * in.dim(0);
            if (cost > 0) {
                Blackhole.consumeCPU(cost);
            }
            return List.of(in.withName("scores"));
        }

        @Override
        public void close() {
        }
    }
}
