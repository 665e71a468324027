package dev.gantry.core.testing;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.ModelExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model fake that computes each row on its own, records every run, and can hold runs in flight or fail them.
 *
 * <p>Signature: input {@value #INPUT} FP32[-1, -1]; outputs {@value #DOUBLED} FP32[-1, -1] = 2x + 1 and
 * {@value #ROW_SUM} FP32[-1, 1] = the sum of each row. Both depend on nothing but the row, so a batched
 * run's outputs split back into exactly what each request would have got alone.
 */
public final class RecordingExecutor implements ModelExecutor {
    public static final String INPUT = "x";
    public static final String DOUBLED = "doubled";
    public static final String ROW_SUM = "row_sum";
    private static final long WAIT_SECONDS = 10;

    private final ModelSignature signature = new ModelSignature(
            List.of(TensorSpec.of(INPUT, DataType.FP32, -1, -1)),
            List.of(TensorSpec.of(DOUBLED, DataType.FP32, -1, -1), TensorSpec.of(ROW_SUM, DataType.FP32, -1, 1)));
    private final List<Run> runs = new CopyOnWriteArrayList<>();
    private final Semaphore started = new Semaphore(0);
    private final AtomicInteger runCount = new AtomicInteger();
    private final Map<Integer, RuntimeException> failures = new ConcurrentHashMap<>();
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile boolean closed;
    private final Set<Thread> attached = ConcurrentHashMap.newKeySet();
    private final AtomicInteger unattachedRuns = new AtomicInteger();

    /** What one call to {@link #run} was given. */
    public record Run(List<Tensor> inputs, Set<String> outputs) {
        public Tensor input() {
            return inputs.get(0);
        }

        public int rows() {
            return Math.toIntExact(input().dim(0));
        }

        public long[] shape() {
            return input().shape();
        }
    }

    /** From now on every run waits, after it has been recorded, until {@link #releaseRuns()}. */
    public RecordingExecutor holdRuns() {
        gate = new CountDownLatch(1);
        return this;
    }

    public void releaseRuns() {
        gate.countDown();
    }

    /** Makes the run with this 0-based index throw {@code failure} instead of computing. */
    public RecordingExecutor failRun(int index, RuntimeException failure) {
        failures.put(index, failure);
        return this;
    }

    /** Blocks until {@code n} more runs have started (and been recorded); fails the test after a while. */
    public void awaitRunsStarted(int n) throws InterruptedException {
        if (!started.tryAcquire(n, WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("expected " + n + " runs to start; runs so far: " + runs.size());
        }
    }

    public List<Run> runs() {
        return List.copyOf(runs);
    }

    /** Every input value the model has been given, across all runs. */
    public List<Float> valuesSeen() {
        List<Float> all = new ArrayList<>();
        for (Run r : runs) {
            for (float f : Tensors.floats(r.input())) {
                all.add(f);
            }
        }
        return all;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public void attachThread() {
        attached.add(Thread.currentThread());
    }

    /** The threads that called {@link #attachThread()}. */
    public Set<Thread> attachedThreads() {
        return Set.copyOf(attached);
    }

    /** Runs made on a thread that had not called {@link #attachThread()} first. */
    public int unattachedRuns() {
        return unattachedRuns.get();
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
        int index = runCount.getAndIncrement();
        if (!attached.contains(Thread.currentThread())) {
            unattachedRuns.incrementAndGet();
        }
        runs.add(new Run(List.copyOf(inputs), Set.copyOf(outputs)));
        started.release();
        try {
            if (!gate.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("run " + index + " was held and never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        RuntimeException failure = failures.get(index);
        if (failure != null) {
            throw failure;
        }
        Tensor x = inputs.stream().filter(t -> t.name().equals(INPUT)).findFirst().orElseThrow();
        List<Tensor> out = new ArrayList<>();
        if (outputs.isEmpty() || outputs.contains(DOUBLED)) {
            out.add(doubled(x));
        }
        if (outputs.isEmpty() || outputs.contains(ROW_SUM)) {
            out.add(rowSum(x));
        }
        return out;
    }

    /** The {@value #DOUBLED} output this model computes for {@code x}. */
    public static Tensor doubled(Tensor x) {
        float[] v = Tensors.floats(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = 2 * v[i] + 1;
        }
        return Tensors.fp32(DOUBLED, x.shape(), v);
    }

    /** The {@value #ROW_SUM} output this model computes for {@code x}. */
    public static Tensor rowSum(Tensor x) {
        float[] v = Tensors.floats(x);
        int rows = Math.toIntExact(x.dim(0));
        int cols = rows == 0 ? 0 : v.length / rows;
        float[] sums = new float[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                sums[r] += v[r * cols + c];
            }
        }
        return Tensors.fp32(ROW_SUM, new long[] {rows, 1}, sums);
    }

    @Override
    public void close() {
        closed = true;
    }
}
