package dev.gantry.http.deploy;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real ONNX Runtime models, of which chosen versions (by model directory name and version directory) can be
 * made to fail or to block their executions once armed. Arm after loading: loading warms a model up by running
 * it, and a fault armed earlier would fail or hold the load instead.
 */
final class FaultyExecutors implements ExecutorFactory {
    enum Fault { NONE, FAIL, BLOCK }

    private final ExecutorFactory real = ExecutorFactory.onnxRuntime();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final AtomicInteger blocked = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);

    /** From now on, executions of {@code model} version {@code version} fail or block. */
    void arm(String model, long version, Fault fault) {
        faults.put(key(model, version), fault);
    }

    /** Lets every blocked execution (now and later) go on; blocking cannot be armed again afterwards. */
    void release() {
        release.countDown();
    }

    /** Executions currently held. */
    int blocked() {
        return blocked.get();
    }

    /** Executions of {@code model} version {@code version} so far, including failed and blocked ones. */
    int runs(String model, long version) {
        return runs.computeIfAbsent(key(model, version), k -> new AtomicInteger()).get();
    }

    /** Polls until {@code n} executions are held (fails after 10 s). */
    void awaitBlocked(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (blocked.get() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " blocked executions, saw " + blocked.get());
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
        ModelExecutor inner = real.load(versionDir, fileName, settings);
        String key = versionDir.getParent().getFileName() + "/" + versionDir.getFileName();
        return new ModelExecutor() {
            @Override
            public ModelSignature signature() {
                return inner.signature();
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                switch (faults.getOrDefault(key, Fault.NONE)) {
                    case FAIL -> throw new IllegalStateException("injected failure in " + key);
                    case BLOCK -> hold();
                    case NONE -> { }
                }
                return inner.run(inputs, outputs);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    private void hold() {
        blocked.incrementAndGet();
        try {
            if (!release.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("blocked execution was never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            blocked.decrementAndGet();
        }
    }

    private static String key(String model, long version) {
        return model + "/" + version;
    }
}
