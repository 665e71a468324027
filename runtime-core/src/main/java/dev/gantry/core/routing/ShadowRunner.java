package dev.gantry.core.routing;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.InputValidator;
import dev.gantry.core.inference.RequestContext;
import dev.gantry.core.tracing.TraceSpan;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends copies of answered requests to shadow versions on its own bounded queue and thread, compares the
 * answers with the primary's and records how they differ. Never blocks or fails the caller: a full queue
 * drops the copy and counts it.
 */
public final class ShadowRunner implements AutoCloseable {
    /*
     * One thread runs one shadow request at a time and waits for its answer (up to the timeout), so a slow
     * shadow version holds back only other shadow work, and the queue in front of it bounds the memory.
     * Shadow answers are compared and discarded.
     */
    private static final Logger log = LoggerFactory.getLogger(ShadowRunner.class);
    private static final double TOLERANCE = 1e-4;

    private final ModelLifecycle lifecycle;
    private final MeterRegistry registry;
    private final Duration timeout;
    private final BlockingQueue<Task> queue;
    private final Thread worker;
    private final dev.gantry.core.metrics.VersionStats stats;
    private volatile boolean running = true;

    private record Task(ModelId shadow, InferenceRequest request, InferenceResponse primary, TraceSpan parent) {
    }

    private ShadowRunner(ModelLifecycle lifecycle, MeterRegistry registry, int capacity, Duration timeout,
                         dev.gantry.core.metrics.VersionStats stats) {
        this.stats = stats;
        this.lifecycle = lifecycle;
        this.registry = registry;
        this.timeout = timeout;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = Thread.ofPlatform().daemon(true).name("gantry-shadow").unstarted(this::loop);
    }

    /**
     * Starts the shadow thread.
     *
     * @param capacity shadow requests that may wait; more are dropped
     * @param timeout how long one shadow request may take before it counts as an error
     */
    public static ShadowRunner start(ModelLifecycle lifecycle, MeterRegistry registry, int capacity,
                                     Duration timeout) {
        return start(lifecycle, registry, capacity, timeout, new dev.gantry.core.metrics.VersionStats());
    }

    /** As {@link #start(ModelLifecycle, MeterRegistry, int, Duration)}, recording answers and agreement in stats. */
    public static ShadowRunner start(ModelLifecycle lifecycle, MeterRegistry registry, int capacity,
                                     Duration timeout, dev.gantry.core.metrics.VersionStats stats) {
        if (capacity < 1) {
            throw new IllegalArgumentException("shadow queue capacity must be >= 1, was " + capacity);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("shadow timeout must be > 0, was " + timeout);
        }
        ShadowRunner r = new ShadowRunner(lifecycle, registry, capacity, timeout, stats);
        r.worker.start();
        return r;
    }

    /** Queues a copy of {@code request} for {@code shadow}; false (and counted) when the queue is full. */
    public boolean offer(ModelId shadow, InferenceRequest request, InferenceResponse primary) {
        return offer(shadow, request, primary, TraceSpan.NONE);
    }

    /** As {@link #offer(ModelId, InferenceRequest, InferenceResponse)}; the shadow call's span is a child of {@code parent}. */
    public boolean offer(ModelId shadow, InferenceRequest request, InferenceResponse primary, TraceSpan parent) {
        if (running && queue.offer(new Task(shadow, request, primary, parent))) {
            return true;
        }
        Counter.builder(MetricNames.SHADOW_DROPPED.meterName())
                .description("Shadow requests dropped because the shadow queue was full")
                .tags("model", shadow.name(), "version", Long.toString(shadow.version())).register(registry)
                .increment();
        return false;
    }

    /** Shadow requests waiting. */
    public int queued() {
        return queue.size();
    }

    private void loop() {
        // waits without a timeout: close() interrupts it (a 100 ms poll woke the thread ten times a second on a
        // server with no shadow traffic at all)
        while (running) {
            Task t;
            try {
                t = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            run(t);
        }
    }

    private void run(Task t) {
        String outcome;
        TraceSpan span = t.parent().child("gantry.shadow").set(TraceSpan.MODEL, t.shadow().name())
                .set(TraceSpan.VERSION, t.shadow().version()).set(TraceSpan.ROUTE_KIND, RouteKind.SHADOW.tagValue());
        try {
            Optional<InferenceResponse> answer = answer(t, span);
            if (answer.isEmpty()) {
                outcome = "error";
            } else {
                OutputComparison c = OutputComparison.compare(t.primary(), answer.get(), TOLERANCE);
                DistributionSummary.builder(MetricNames.SHADOW_MAX_ABS_DIFF.meterName())
                        .description("Largest absolute difference between primary and shadow outputs")
                        .tags("model", t.shadow().name(), "version", Long.toString(t.shadow().version()))
                        .register(registry).record(c.maxAbsDiff());
                outcome = c.agree() ? "agree" : "disagree";
                stats.recordComparison(t.shadow(), c.agree());
            }
        } catch (RuntimeException e) {
            log.debug("shadow {} failed", t.shadow(), e);
            outcome = "error";
        }
        Counter.builder(MetricNames.SHADOW_REQUESTS.meterName())
                .description("Shadow requests by how their answer compared with the primary's")
                .tags("model", t.shadow().name(), "version", Long.toString(t.shadow().version()), "outcome", outcome)
                .register(registry).increment();
        span.set("gantry.shadow.outcome", outcome);
        if (outcome.equals("error")) {
            span.fail("shadow call failed");
        }
        span.end();
    }

    private Optional<InferenceResponse> answer(Task t, TraceSpan span) {
        Optional<ModelVersionState> s = lifecycle.state(t.shadow()).filter(ModelVersionState::isReady);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            InputValidator.validate(t.request(), s.get().signature().orElseThrow(),
                    s.get().batchPolicy().orElseThrow().maxBatchSize());
        } catch (GantryException e) {
            log.debug("shadow {}: {}", t.shadow(), e.toString());
            return Optional.empty();
        }
        long start = System.nanoTime();
        try {
            InferenceResponse r = s.get().scheduler().orElseThrow().enqueue(t.request(), new RequestContext(span))
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            stats.record(t.shadow(), false, System.nanoTime() - start);
            return Optional.of(r);
        } catch (GantryException | ExecutionException | TimeoutException e) {
            stats.record(t.shadow(), true, System.nanoTime() - start);
            log.debug("shadow {}: {}", t.shadow(), e.toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Stops the thread; queued shadow requests are dropped. */
    @Override
    public void close() {
        running = false;
        worker.interrupt();
        queue.clear();
    }
}
