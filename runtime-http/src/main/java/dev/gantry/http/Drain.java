package dev.gantry.http;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's drain state: whether it still admits requests, how many admitted ones are unanswered, and when the
 * last request arrived; and the waits a graceful stop is made of.
 */
final class Drain {
    /** Callers must have stopped sending for this long before the listener closes. */
    static final Duration QUIET_PERIOD = Duration.ofMillis(300);

    /** How much longer than the drain timeout the unload of admitted requests may take before the stop goes on. */
    static final Duration UNLOAD_SLACK = Duration.ofSeconds(5);
    /** How long the stop waits for answered requests' responses to be written. */
    static final Duration RESPONSE_WAIT = Duration.ofSeconds(5);

    /**
     * The longest {@link #stop} can take with drain timeout {@code timeout}: the unload wait, the response wait and
     * the quiet wait (bounded by {@code timeout}) one after the other. A supervisor's grace period (Kubernetes'
     * terminationGracePeriodSeconds) must exceed it.
     */
    static Duration longestStop(Duration timeout) {
        return timeout.plus(UNLOAD_SLACK).plus(RESPONSE_WAIT).plus(timeout);
    }

    final AtomicBoolean draining = new AtomicBoolean();
    final AtomicInteger inflight = new AtomicInteger();
    final AtomicLong lastRequestNanos = new AtomicLong();
    private final ScheduledExecutorService timers;

    Drain(ScheduledExecutorService timers) {
        this.timers = timers;
    }

    /**
     * The stop sequence: {@code unloadAll} answers what the models admitted (bounded by {@code timeout}), responses
     * are written, callers stop sending (503 with Connection: close meanwhile, so closing the listener cuts off no
     * request already on its way), then {@code closeListeners} stops listening and {@code closeAll} the rest.
     */
    CompletableFuture<Void> stop(Duration timeout, java.util.function.Supplier<CompletableFuture<Void>> unloadAll,
                                 java.util.function.Supplier<java.util.concurrent.CompletionStage<Void>> closeListeners,
                                 java.util.function.Supplier<java.util.concurrent.CompletionStage<Void>> closeAll) {
        draining.set(true);
        return unloadAll.get()
                .orTimeout(timeout.plus(UNLOAD_SLACK).toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> null)
                .thenCompose(v -> responsesWritten(System.nanoTime() + RESPONSE_WAIT.toNanos()))
                .thenCompose(v -> quiet(QUIET_PERIOD, System.nanoTime() + timeout.toNanos()))
                .thenCompose(v -> closeListeners.get())
                .thenCompose(v -> closeAll.get());
    }

    /** Completes once no request has arrived for {@code quiet}, or at the deadline. */
    CompletableFuture<Void> quiet(Duration quiet, long deadlineNanos) {
        return poll(() -> System.nanoTime() - lastRequestNanos.get() >= quiet.toNanos(), deadlineNanos, 20);
    }

    /** Completes when every admitted inference request's response has been written, or at the deadline. */
    CompletableFuture<Void> responsesWritten(long deadlineNanos) {
        return poll(() -> inflight.get() <= 0, deadlineNanos, 10);
    }

    private CompletableFuture<Void> poll(java.util.function.BooleanSupplier done, long deadlineNanos, long everyMs) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            if (done.getAsBoolean() || System.nanoTime() > deadlineNanos) {
                out.complete(null);
            } else {
                timers.schedule(check[0], everyMs, TimeUnit.MILLISECONDS);
            }
        };
        check[0].run();
        return out;
    }
}
