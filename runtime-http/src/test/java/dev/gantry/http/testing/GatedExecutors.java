package dev.gantry.http.testing;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real ONNX Runtime models whose executions can be held at a gate, so a test can fill a queue or let a
 * request time out deterministically. Counts the executions and the rows they ran.
 */
public final class GatedExecutors implements ExecutorFactory {
    private final ExecutorFactory real = ExecutorFactory.onnxRuntime();
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final AtomicInteger executions = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger rows = new AtomicInteger();

    /** From now on, executions wait until {@link #open()}. */
    public void close() {
        gate = new CountDownLatch(1);
    }

    public void open() {
        gate.countDown();
    }

    public int executions() {
        return executions.get();
    }

    /** Executions currently held at the gate. */
    public int waiting() {
        return waiting.get();
    }

    public int rows() {
        return rows.get();
    }

    @Override
    public ModelExecutor load(java.nio.file.Path versionDir, String fileName,
                              dev.gantry.core.engine.ExecutionSettings settings) {
        ModelExecutor inner = real.load(versionDir, fileName, settings);
        return new ModelExecutor() {
            @Override
            public ModelSignature signature() {
                return inner.signature();
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                waiting.incrementAndGet();
                try {
                    if (!gate.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } finally {
                    waiting.decrementAndGet();
                }
                executions.incrementAndGet();
                rows.addAndGet((int) inputs.get(0).dim(0));
                return inner.run(inputs, outputs);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    /** Polls until {@code n} executions wait at the gate (test helper; fails after 10 s). */
    public void awaitWaiting(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (waiting.get() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " executions at the gate, saw " + waiting.get());
            }
            Thread.onSpinWait();
        }
    }
}
