package dev.gantry.http.deploy;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real ONNX Runtime models with bad candidates made by fault injection, per model directory and version
 * directory, once armed: one that fails a share of its executions, one that is slower, one whose outputs differ
 * from the real model's, one that stops answering (its executions block until {@link #release}). Arm after
 * loading (loading warms the model up by running it).
 */
final class CandidateFaults implements ExecutorFactory {
    enum Fault { NONE, FAIL_20_PERCENT, FAIL_ALL, SLOW, WRONG_OUTPUTS, STALL }

    static final long SLOW_MILLIS = 20;

    private final ExecutorFactory real = ExecutorFactory.onnxRuntime();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> runs = new ConcurrentHashMap<>();
    private final SplittableRandom seeds = new SplittableRandom(7);
    private final Map<String, java.util.concurrent.CountDownLatch> stalls = new ConcurrentHashMap<>();

    void arm(String model, long version, Fault fault) {
        if (fault == Fault.STALL) {
            stalls.put(model + "/" + version, new java.util.concurrent.CountDownLatch(1));
        }
        faults.put(model + "/" + version, fault);
    }

    /** Disarms {@code model} version {@code version} and lets its stalled executions go on. */
    void release(String model, long version) {
        faults.put(model + "/" + version, Fault.NONE);
        java.util.concurrent.CountDownLatch l = stalls.remove(model + "/" + version);
        if (l != null) {
            l.countDown();
        }
    }

    /** Executions of {@code model} version {@code version} so far. */
    long runs(String model, long version) {
        return runs.computeIfAbsent(model + "/" + version, k -> new AtomicLong()).get();
    }

    @Override
    public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
        ModelExecutor inner = real.load(versionDir, fileName, settings);
        String key = versionDir.getParent().getFileName() + "/" + versionDir.getFileName();
        SplittableRandom random;
        synchronized (seeds) {
            random = seeds.split();
        }
        return new ModelExecutor() {
            @Override
            public ModelSignature signature() {
                return inner.signature();
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                runs.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
                Fault f = faults.getOrDefault(key, Fault.NONE);
                boolean fail;
                synchronized (random) {
                    fail = f == Fault.FAIL_ALL || (f == Fault.FAIL_20_PERCENT && random.nextDouble() < 0.2);
                }
                if (fail) {
                    throw new IllegalStateException("injected failure in " + key);
                }
                java.util.concurrent.CountDownLatch stall = stalls.get(key);
                if (f == Fault.STALL && stall != null) {
                    try {
                        stall.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
                if (f == Fault.SLOW) {
                    try {
                        Thread.sleep(SLOW_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
                List<Tensor> out = inner.run(inputs, outputs);
                return f == Fault.WRONG_OUTPUTS ? shifted(out) : out;
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    /** The same tensors with every FP32 element negated (so even the argmax changes). */
    private static List<Tensor> shifted(List<Tensor> out) {
        List<Tensor> shifted = new ArrayList<>();
        for (Tensor t : out) {
            if (t.datatype() != DataType.FP32) {
                shifted.add(t);
                continue;
            }
            ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            while (src.remaining() >= 4) {
                dst.putFloat(-src.getFloat() - 1.0f);
            }
            dst.flip();
            shifted.add(Tensor.of(t.name(), t.datatype(), t.shape(), dst));
        }
        return shifted;
    }
}
