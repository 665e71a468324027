package dev.gantry.core.scheduling;

import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.metrics.InferenceMetrics;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.core.testing.Tensors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static dev.gantry.core.testing.RecordingExecutor.INPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Request timeouts cost no timer task per request, and a completed request leaves nothing in the timer queue. */
@Timeout(30)
class TimersTest {
    private static final long ONE_HOUR_MICROS = TimeUnit.HOURS.toMicros(1);
    private static final int REQUESTS = 200;

    @Test
    void completedRequests_withTimersCreate_leaveNoTimeoutTaskQueued() throws Exception {
        ScheduledThreadPoolExecutor timers = (ScheduledThreadPoolExecutor) Timers.create("test-timers");
        try {
            runRequestsWithHourTimeout(timers);

            assertEquals(0, timers.getQueue().size(), "cancelled timeout tasks still queued");
        } finally {
            timers.shutdownNow();
        }
    }

    @Test
    void queuedRequests_withTimeouts_armOneDeadlineSweep_notOneTimerPerRequest() throws Exception {
        // Even on a plain executor (no remove-on-cancel) the queue of timers does not grow with the requests:
        // the scheduler keeps one sweep armed for the earliest deadline instead of a task per request.
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
        ModelId model = new ModelId("adder", 1);
        RecordingExecutor executor = new RecordingExecutor();
        executor.holdRuns();
        DynamicBatchScheduler scheduler = DynamicBatchScheduler.start(model, executor,
                BatchPolicy.unbatched(8, REQUESTS, 1), InferenceMetrics.register(new SimpleMeterRegistry(), model),
                timers, Ticker.system());
        try {
            List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                answers.add(scheduler.enqueue(new InferenceRequest("r" + i,
                        List.of(Tensors.fp32Rows(INPUT, 1, 3, i)), Set.of(), Optional.of(ONE_HOUR_MICROS), Map.of())));
            }

            assertEquals(1, timers.getQueue().size(), "timer tasks for " + REQUESTS + " queued requests");
            executor.releaseRuns();
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        } finally {
            executor.releaseRuns();
            scheduler.stop(Duration.ZERO).get(10, TimeUnit.SECONDS);
            timers.shutdownNow();
        }
    }

    private static void runRequestsWithHourTimeout(ScheduledExecutorService timers) throws Exception {
        ModelId model = new ModelId("adder", 1);
        DynamicBatchScheduler scheduler = DynamicBatchScheduler.start(model, new RecordingExecutor(),
                BatchPolicy.unbatched(8, REQUESTS, 1), InferenceMetrics.register(new SimpleMeterRegistry(), model),
                timers, Ticker.system());
        List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            answers.add(scheduler.enqueue(new InferenceRequest("r" + i, List.of(Tensors.fp32Rows(INPUT, 1, 3, i)),
                    Set.of(), Optional.of(ONE_HOUR_MICROS), Map.of())));
        }
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        // stop() schedules its own drain task; count only the request timers.
        scheduler.stop(Duration.ofHours(2)).get(10, TimeUnit.SECONDS);
        ((ScheduledThreadPoolExecutor) timers).getQueue().removeIf(t -> ((java.util.concurrent.Delayed) t)
                .getDelay(TimeUnit.MINUTES) > 90);
    }
}
