package dev.gantry.core.scheduling;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.RequestContext;
import dev.gantry.core.testing.RecordingSpan;
import dev.gantry.core.tracing.TraceSpan;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.metrics.InferenceMetrics;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.testing.ManualTicker;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.core.testing.Tensors;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.gantry.core.testing.RecordingExecutor.DOUBLED;
import static dev.gantry.core.testing.RecordingExecutor.INPUT;
import static dev.gantry.core.testing.RecordingExecutor.ROW_SUM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class DynamicBatchSchedulerTest {
    private static final ModelId MODEL = new ModelId("adder", 1);
    /** Long enough that, with a {@link ManualTicker}, a batch only leaves early because it is full. */
    private static final long LONG_DELAY_MICROS = TimeUnit.SECONDS.toMicros(5);

    private final RecordingExecutor executor = new RecordingExecutor();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Float> nextBase = new ArrayList<>(List.of(0f));
    private DynamicBatchScheduler scheduler;

    @AfterEach
    void tearDown() throws Exception {
        executor.releaseRuns();
        if (scheduler != null) {
            scheduler.stop(Duration.ZERO).get(10, TimeUnit.SECONDS);
        }
        timers.shutdownNow();
    }

    // ---- grouping ----

    @Test
    void enqueue_withBatching_combinesRequestsQueuedWhileAnExecutionIsInFlight() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                enqueue(rows(1, 3)), enqueue(rows(1, 3)), enqueue(rows(1, 3)));

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(List.of(1, 3), rowsPerRun());
    }

    @Test
    void enqueue_withoutBatching_runsOneRequestPerExecution() throws Exception {
        start(BatchPolicy.unbatched(8, 16, 1), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                enqueue(rows(1, 3)), enqueue(rows(1, 3)), enqueue(rows(1, 3)));

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(List.of(1, 1, 1, 1), rowsPerRun());
    }

    @Test
    void enqueue_withBatching_neverCombinesMoreRowsThanMaxBatchSize() throws Exception {
        start(batching(4, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                enqueue(rows(2, 3)), enqueue(rows(2, 3)), enqueue(rows(1, 3)), enqueue(rows(3, 3)));

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(List.of(1, 4, 4), rowsPerRun());
    }

    @Test
    void enqueue_withMaxBatchElements_combinesOnlyTheRowsWhoseElementsFit() throws Exception {
        start(elementCapped(8, 12, 0), Ticker.system()); // 3 values per row: at most 4 rows of them
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<InferenceRequest> requests = new ArrayList<>();
        List<CompletableFuture<InferenceResponse>> queued = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(rows(1, 3));
            queued.add(enqueue(requests.getLast()));
        }

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(List.of(1, 4, 2), rowsPerRun());
        for (int i = 0; i < requests.size(); i++) {
            assertOwnAnswer(requests.get(i), queued.get(i).get());
        }
    }

    @Test
    void enqueue_withMaxBatchElements_capsEachShapeByItsOwnRowSize() throws Exception {
        start(elementCapped(8, 12, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun(rows(1, 6)); // 6 values per row: 2 rows
        InferenceRequest longA = rows(1, 6);
        InferenceRequest longB = rows(1, 6);
        InferenceRequest longC = rows(1, 6);
        InferenceRequest shortA = rows(2, 2);
        InferenceRequest shortB = rows(3, 2);
        List<CompletableFuture<InferenceResponse>> queued = List.of(enqueue(longA), enqueue(shortA), enqueue(longB),
                enqueue(shortB), enqueue(longC));

        executor.releaseRuns();

        awaitAll(first, queued);
        List<long[]> shapes = executor.runs().stream().map(RecordingExecutor.Run::shape).toList();
        assertEquals(4, shapes.size(), "runs: " + rowsPerRun());
        assertArrayEquals(new long[] {2, 6}, shapes.get(1)); // longA and longB; the short rows cannot join
        assertArrayEquals(new long[] {5, 2}, shapes.get(2)); // shortA and shortB: 10 of 12 elements
        assertArrayEquals(new long[] {1, 6}, shapes.get(3));
        assertOwnAnswer(longA, queued.get(0).get());
        assertOwnAnswer(shortA, queued.get(1).get());
        assertOwnAnswer(longB, queued.get(2).get());
        assertOwnAnswer(shortB, queued.get(3).get());
        assertOwnAnswer(longC, queued.get(4).get());
    }

    @Test
    void enqueue_aRequestAboveMaxBatchElementsByItself_runsAloneAndIsAnswered() throws Exception {
        start(elementCapped(8, 12, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        InferenceRequest big = rows(3, 5); // 15 elements, above the cap of 12 on its own
        CompletableFuture<InferenceResponse> bigAnswer = enqueue(big);
        CompletableFuture<InferenceResponse> small = enqueue(rows(1, 5));
        CompletableFuture<InferenceResponse> small2 = enqueue(rows(1, 5));

        executor.releaseRuns();

        awaitAll(first, List.of(bigAnswer, small, small2));
        assertEquals(List.of(1, 3, 2), rowsPerRun());
        assertOwnAnswer(big, bigAnswer.get());
    }

    @Test
    void enqueue_fillingTheElementCapOfAGatheringBatch_dispatchesItAtOnce() throws Exception {
        // time never advances: only a batch that can take no further row dispatches
        start(elementCapped(8, 6, LONG_DELAY_MICROS), new ManualTicker());
        CompletableFuture<InferenceResponse> a = takenWhileUnderLoad(); // 3 values per row: 2 rows fill the cap

        CompletableFuture<InferenceResponse> b = enqueue(rows(1, 3));

        awaitAll(a, List.of(b));
        assertEquals(List.of(1, 2), rowsPerRun());
    }

    @Test
    void enqueue_withDifferentInnerDimensions_doesNotCombineThemButAnswersAll() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        InferenceRequest threeA = rows(1, 3);
        InferenceRequest four = rows(1, 4);
        InferenceRequest threeB = rows(1, 3);
        List<CompletableFuture<InferenceResponse>> queued = List.of(enqueue(threeA), enqueue(four), enqueue(threeB));

        executor.releaseRuns();

        awaitAll(first, queued);
        List<long[]> shapes = executor.runs().stream().map(RecordingExecutor.Run::shape).toList();
        assertEquals(3, shapes.size());
        assertArrayEquals(new long[] {2, 3}, shapes.get(1));
        assertArrayEquals(new long[] {1, 4}, shapes.get(2));
        assertOwnAnswer(threeA, queued.get(0).get());
        assertOwnAnswer(four, queued.get(1).get());
        assertOwnAnswer(threeB, queued.get(2).get());
    }

    @Test
    void enqueue_inACombinedBatch_eachRequestGetsExactlyItsOwnRows() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<InferenceRequest> requests = List.of(rows(2, 3), rows(1, 3), rows(3, 3));
        List<CompletableFuture<InferenceResponse>> queued = requests.stream().map(this::enqueue).toList();

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(List.of(1, 6), rowsPerRun());
        for (int i = 0; i < requests.size(); i++) {
            InferenceResponse r = queued.get(i).get();
            assertEquals(requests.get(i).id(), r.id());
            assertEquals(MODEL, r.model());
            assertOwnAnswer(requests.get(i), r);
        }
    }

    // ---- requested outputs ----

    @Test
    void enqueue_inACombinedBatch_eachRequestGetsOnlyTheOutputsItAskedFor() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        CompletableFuture<InferenceResponse> wantsDoubled = enqueue(rows(1, 3, Set.of(DOUBLED)));
        CompletableFuture<InferenceResponse> wantsSum = enqueue(rows(1, 3, Set.of(ROW_SUM)));
        CompletableFuture<InferenceResponse> wantsAll = enqueue(rows(1, 3));

        executor.releaseRuns();

        awaitAll(first, List.of(wantsDoubled, wantsSum, wantsAll));
        assertEquals(List.of(1, 3), rowsPerRun());
        assertEquals(List.of(DOUBLED), outputNames(wantsDoubled.get()));
        assertEquals(List.of(ROW_SUM), outputNames(wantsSum.get()));
        assertEquals(List.of(DOUBLED, ROW_SUM), outputNames(wantsAll.get()));
    }

    @Test
    void enqueue_inACombinedBatch_asksTheModelForTheUnionOfRequestedOutputs() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                enqueue(rows(1, 3, Set.of(DOUBLED))), enqueue(rows(1, 3, Set.of(DOUBLED))));

        executor.releaseRuns();

        awaitAll(first, queued);
        assertEquals(Set.of(DOUBLED), executor.runs().get(1).outputs());
        assertEquals(List.of(DOUBLED), outputNames(queued.get(1).get()));
    }

    // ---- max_queue_delay and preferred sizes ----

    @Test
    void enqueue_withQueueDelay_underLoad_waitsForMoreRequestsToJoinTheBatch() throws Exception {
        start(batching(2, LONG_DELAY_MICROS), new ManualTicker());
        CompletableFuture<InferenceResponse> gathering = takenWhileUnderLoad();

        CompletableFuture<InferenceResponse> joining = enqueue(rows(1, 3));

        awaitAll(gathering, List.of(joining));
        assertEquals(List.of(1, 2), rowsPerRun());
    }

    @Test
    void enqueue_withQueueDelay_onAnIdleScheduler_runsAtOnceWithoutWaitingTheDelay() throws Exception {
        // The ticker never moves: a request that waited for the delay would never run.
        start(batching(8, LONG_DELAY_MICROS), new ManualTicker());

        CompletableFuture<InferenceResponse> lone = enqueue(rows(1, 3));

        await(lone);
        assertEquals(List.of(1), rowsPerRun());
        assertEquals(1L, registry.get("inference.batch.size").summary().count());
    }

    @Test
    void enqueue_withQueueDelay_whileEveryInstanceIsBusy_waitsAndJoinsTheNextBatch() throws Exception {
        start(batching(8, LONG_DELAY_MICROS), new ManualTicker());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> b = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> c = enqueue(rows(2, 3));
        CompletableFuture<InferenceResponse> d = enqueue(rows(5, 3));

        executor.releaseRuns();

        awaitAll(running, List.of(b, c, d));
        assertEquals(List.of(1, 8), rowsPerRun());
    }

    @Test
    void enqueue_onAThreadThatDefersWakeups_leavesTheWorkerAsleepUntilTheBurstEnds_thenRunsTheBurstAsOneBatch()
            throws Exception {
        start(batching(8, 0), Ticker.system());
        await(enqueue(rows(1, 3))); // the worker has started, served one request and gone back to waiting
        Thread.sleep(100);
        List<Runnable> deferred = new ArrayList<>();
        DeferredWakeups.install(deferred::add);
        List<CompletableFuture<InferenceResponse>> burst;
        try {
            burst = List.of(enqueue(rows(1, 3)), enqueue(rows(1, 3)), enqueue(rows(1, 3)));
        } finally {
            DeferredWakeups.install(null);
        }
        Thread.sleep(200);
        assertEquals(List.of(1), rowsPerRun(), "no wake-up before the burst ends");
        assertEquals(1, deferred.stream().distinct().count(), "the same wake-up, once per scheduler");

        deferred.get(0).run();

        for (CompletableFuture<InferenceResponse> f : burst) {
            await(f);
        }
        assertEquals(List.of(1, 3), rowsPerRun());
    }

    @Test
    void aDeferredWakeUpForSeveralRequests_wakesEveryIdleInstanceTheyNeed() throws Exception {
        executor.holdRuns();
        start(BatchPolicy.unbatched(8, 16, 2), Ticker.system());
        Thread.sleep(100); // both workers have started and wait for work
        List<Runnable> deferred = new ArrayList<>();
        DeferredWakeups.install(deferred::add);
        CompletableFuture<InferenceResponse> a;
        CompletableFuture<InferenceResponse> b;
        try {
            a = enqueue(rows(1, 3));
            b = enqueue(rows(1, 3));
        } finally {
            DeferredWakeups.install(null);
        }

        deferred.get(0).run(); // one wake-up for the burst

        executor.awaitRunsStarted(2); // both instances run, neither waits for the other
        executor.releaseRuns();
        awaitAll(a, List.of(b));
    }

    @Test
    void enqueue_onAThreadWithoutASink_wakesTheWorkerAtOnce() throws Exception {
        start(batching(8, 0), Ticker.system());
        DeferredWakeups.install(null);

        await(enqueue(rows(1, 3)));

        assertEquals(List.of(1), rowsPerRun());
    }

    @Test
    void enqueue_withZeroQueueDelay_dispatchesWithoutWaiting() throws Exception {
        start(batching(8, 0), new ManualTicker());

        CompletableFuture<InferenceResponse> a = enqueue(rows(1, 3));

        await(a);
        assertEquals(List.of(1), rowsPerRun());
    }

    @Test
    void enqueue_withQueueDelay_dispatchesAPartialBatchOnceTheOldestHasWaitedTheDelay() throws Exception {
        ManualTicker ticker = new ManualTicker();
        start(batching(8, 1_000), ticker);
        CompletableFuture<InferenceResponse> a = takenWhileUnderLoad();

        ticker.advance(Duration.ofMillis(1));

        await(a);
        assertEquals(List.of(1, 1), rowsPerRun());
    }

    @Test
    void enqueue_withQueueDelay_dispatchesAPartialBatchOnceArrivalsPauseForAQuarterOfTheDelay() throws Exception {
        ManualTicker ticker = new ManualTicker();
        start(batching(8, 1_000), ticker);
        CompletableFuture<InferenceResponse> a = takenWhileUnderLoad();

        // 300 us without an arrival: past a quarter of the 1 ms delay, well short of the delay itself (the
        // ticker stops there, so only the pause can dispatch).
        ticker.advance(Duration.ofNanos(300_000));

        await(a);
        assertEquals(List.of(1, 1), rowsPerRun());
    }

    @Test
    void enqueue_withQueueDelay_keepsTheBatchOpenWhileRequestsKeepArriving() throws Exception {
        ManualTicker ticker = new ManualTicker();
        start(batching(8, 1_000), ticker);
        CompletableFuture<InferenceResponse> a = takenWhileUnderLoad();
        ticker.advance(Duration.ofNanos(200_000));
        CompletableFuture<InferenceResponse> b = enqueue(rows(2, 3));

        // 400 us after the oldest, 200 us after the latest arrival: less than the 250 us pause, so it waits.
        ticker.advance(Duration.ofNanos(200_000));
        Thread.sleep(50);
        assertEquals(List.of(1), rowsPerRun(), "the batch was dispatched while requests were still arriving");

        ticker.advance(Duration.ofNanos(100_000));
        awaitAll(a, List.of(b));
        assertEquals(List.of(1, 3), rowsPerRun());
    }

    @Test
    void enqueue_fillingTheGatheringBatch_dispatchesItAtOnce() throws Exception {
        start(batching(3, LONG_DELAY_MICROS), new ManualTicker()); // time never advances: only a full batch runs
        CompletableFuture<InferenceResponse> a = takenWhileUnderLoad();

        CompletableFuture<InferenceResponse> b = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> c = enqueue(rows(1, 3));

        awaitAll(a, List.of(b, c));
        assertEquals(List.of(1, 3), rowsPerRun());
    }

    @Test
    void enqueue_reachingAPreferredBatchSize_dispatchesAtOnce() throws Exception {
        BatchPolicy policy = new BatchPolicy(8, true, LONG_DELAY_MICROS, List.of(3), 16, 0, 1, 0);
        start(policy, new ManualTicker()); // time never advances: only the preferred size can dispatch
        // Both admitted under load (the one instance busy), so their batch may wait to grow; queued to an idle
        // scheduler, the first would run alone at once (adaptive delay) and the outcome would be a race.
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> a = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> b = enqueue(rows(2, 3));

        executor.releaseRuns();

        awaitAll(running, List.of(a, b));
        assertEquals(List.of(1, 3), rowsPerRun());
    }

    // ---- admission and timeouts ----

    @Test
    void enqueue_whenQueueFull_failsWithResourceExhausted() throws Exception {
        start(BatchPolicy.unbatched(8, 1, 1), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> queued = enqueue(rows(1, 3));

        CompletableFuture<InferenceResponse> refused = enqueue(rows(1, 3));

        assertFailsWith(ErrorCode.RESOURCE_EXHAUSTED, refused);
        executor.releaseRuns();
        awaitAll(running, List.of(queued));
    }

    @Test
    void enqueue_timingOutWhileQueued_failsWithDeadlineExceededAndNeverRuns() throws Exception {
        start(BatchPolicy.unbatched(8, 16, 1), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        InferenceRequest late = withTimeout(rows(1, 3), 1_000);

        CompletableFuture<InferenceResponse> expired = enqueue(late);

        assertFailsWith(ErrorCode.DEADLINE_EXCEEDED, expired);
        executor.releaseRuns();
        await(running);
        assertEquals(1, executor.runs().size());
        for (float v : Tensors.floats(late.inputs().get(0))) {
            assertFalse(executor.valuesSeen().contains(v), "the model saw the expired request's value " + v);
        }
    }

    @Test
    void enqueue_withoutTimeout_usesThePolicyDefault() throws Exception {
        start(new BatchPolicy(8, false, 0, List.of(), 16, /* defaultTimeoutMicros= */ 1_000, 1, 0), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun(withTimeout(rows(1, 3), 60_000_000));

        CompletableFuture<InferenceResponse> expired = enqueue(rows(1, 3));

        assertFailsWith(ErrorCode.DEADLINE_EXCEEDED, expired);
        executor.releaseRuns();
        await(running);
    }

    @Test
    void idleScheduler_withADefaultTimeout_keepsOneSweepArmed_untilStopped() throws Exception {
        java.util.concurrent.ScheduledThreadPoolExecutor own =
                (java.util.concurrent.ScheduledThreadPoolExecutor) Timers.create("test-timers");
        try {
            DynamicBatchScheduler s = DynamicBatchScheduler.start(MODEL, executor, new BatchPolicy(8, false, 0,
                    List.of(), 16, /* defaultTimeoutMicros= */ 5_000, 1, 0), InferenceMetrics.register(registry,
                    MODEL), own, Ticker.system());
            assertEquals(1, own.getQueue().size(), "armed at start, before any request");
            await(s.enqueue(rows(1, 3)));
            // several idle sweeps, each re-arming the next: one queued at a time (none while one runs)
            int most = 0;
            int armed = 0;
            for (int i = 0; i < 40; i++) {
                int queued = own.getQueue().size();
                most = Math.max(most, queued);
                armed += queued == 1 ? 1 : 0;
                Thread.sleep(1);
            }
            assertEquals(1, most, "never more than one sweep armed");
            assertTrue(armed > 20, "armed while idle in " + armed + " of 40 samples");

            s.stop(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            Thread.sleep(20);
            assertTrue(own.getQueue().stream().noneMatch(t -> ((java.util.concurrent.Delayed) t)
                    .getDelay(TimeUnit.MILLISECONDS) < 1_000), "no sweep left after stop: " + own.getQueue());
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void enqueue_afterIdlePeriodsOfTheDefaultTimeout_stillExpiresAtItsOwnDeadline() throws Exception {
        // the sweep stays armed a default timeout ahead while idle; requests after idleness must still expire
        start(new BatchPolicy(8, false, 0, List.of(), 16, /* defaultTimeoutMicros= */ 20_000, 1, 0), Ticker.system());
        await(enqueue(rows(1, 3)));
        Thread.sleep(70); // more than three idle sweeps
        executor.holdRuns();
        CompletableFuture<InferenceResponse> running = enqueue(withTimeout(rows(1, 3), 60_000_000));
        executor.awaitRunsStarted(2);

        long start = System.nanoTime();
        CompletableFuture<InferenceResponse> expired = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> shorter = enqueue(withTimeout(rows(1, 3), 1_000));

        assertFailsWith(ErrorCode.DEADLINE_EXCEEDED, shorter);
        assertFailsWith(ErrorCode.DEADLINE_EXCEEDED, expired);
        long took = System.nanoTime() - start;
        assertTrue(took >= TimeUnit.MICROSECONDS.toNanos(20_000), "expired before its own deadline: " + took);
        assertTrue(took < TimeUnit.SECONDS.toNanos(5), "expired long after its deadline: " + took);
        executor.releaseRuns();
        await(running);
    }

    // ---- failures ----

    @Test
    void run_failingForABatch_retriesEachRequestAlone_soOnlyTheRequestAtFaultFails() throws Exception {
        executor.failRun(1, new GantryException(ErrorCode.INVALID_ARG, "index out of range"));
        executor.failRun(3, new GantryException(ErrorCode.INVALID_ARG, "index out of range"));
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        InferenceRequest innocent = rows(1, 3);
        CompletableFuture<InferenceResponse> b = enqueue(innocent);
        CompletableFuture<InferenceResponse> c = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> other = enqueue(rows(1, 4));

        executor.releaseRuns();

        assertOwnAnswer(innocent, await(b));
        GantryException e = assertFailsWith(ErrorCode.INVALID_ARG, c);
        assertEquals("index out of range", e.getMessage());
        awaitAll(first, List.of(other));
        assertEquals(List.of(1, 2, 1, 1, 1), rowsPerRun());
    }

    @Test
    void run_throwingGantryExceptionForOneRequest_failsItWithThatCode() throws Exception {
        executor.failRun(0, new GantryException(ErrorCode.UNAVAILABLE, "device lost"));
        start(batching(8, 0), Ticker.system());

        GantryException e = assertFailsWith(ErrorCode.UNAVAILABLE, enqueue(rows(1, 3)));
        assertEquals("device lost", e.getMessage());
    }

    @Test
    void run_thatHangsPastTheExecutionTimeout_isAnsweredModelTimeout_andTheNextInstanceServes() throws Exception {
        start(new BatchPolicy(8, false, 0, List.of(), 16, 0, 2, /* executionTimeoutMicros= */ 50_000),
                Ticker.system());
        executor.holdRuns();
        CompletableFuture<InferenceResponse> hung = enqueue(rows(1, 3));
        executor.awaitRunsStarted(1);

        GantryException e = assertFailsWith(ErrorCode.MODEL_TIMEOUT, hung);
        assertTrue(e.getMessage().contains("did not finish within 50 ms"), e.getMessage());
        executor.releaseRuns();
        InferenceRequest next = rows(1, 3);
        assertOwnAnswer(next, await(enqueue(next)));
    }

    @Test
    void run_throwingRuntimeException_failsWithInternalAndKeepsServing() throws Exception {
        executor.failRun(0, new IllegalStateException("boom"));
        start(batching(8, 0), Ticker.system());

        GantryException e = assertFailsWith(ErrorCode.INTERNAL, enqueue(rows(1, 3)));
        assertTrue(e.getMessage().contains("boom"), e.getMessage());
        InferenceRequest next = rows(1, 3);
        assertOwnAnswer(next, await(enqueue(next)));
    }

    // ---- instances ----

    @Test
    void start_withTwoInstances_runsTwoExecutionsAtOnce() throws Exception {
        executor.holdRuns();
        start(BatchPolicy.unbatched(8, 16, 2), Ticker.system());

        CompletableFuture<InferenceResponse> a = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> b = enqueue(rows(1, 3));

        executor.awaitRunsStarted(2);
        executor.releaseRuns();
        awaitAll(a, List.of(b));
    }

    @Test
    void start_withOneInstance_keepsTheNextRequestQueuedWhileOneRuns() throws Exception {
        start(BatchPolicy.unbatched(8, 16, 1), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();

        CompletableFuture<InferenceResponse> waiting = enqueue(rows(1, 3));

        assertEquals(1, scheduler.queuedCount());
        assertEquals(2, scheduler.inflightCount());
        assertEquals(1, executor.runs().size());
        executor.releaseRuns();
        awaitAll(running, List.of(waiting));
    }

    @Test
    void enqueue_withTwoInstances_anIdleInstanceTakesWhatTheGatheringOneCannot() throws Exception {
        start(new BatchPolicy(8, true, LONG_DELAY_MICROS, List.of(), 16, 0, 2, 0), new ManualTicker());
        executor.holdRuns();
        CompletableFuture<InferenceResponse> full = enqueue(rows(8, 3));
        CompletableFuture<InferenceResponse> alsoFull = enqueue(rows(8, 3));
        executor.awaitRunsStarted(2);
        CompletableFuture<InferenceResponse> gathering = enqueue(rows(1, 3));
        executor.releaseRuns();
        awaitAll(full, List.of(alsoFull));
        waitUntil(() -> scheduler.queuedCount() == 0 && idleWorkers() == 1,
                "one instance to take the request and the other to wait for work");

        CompletableFuture<InferenceResponse> incompatible = enqueue(rows(8, 4));

        await(incompatible);
        assertFalse(gathering.isDone(), "the gathering batch has neither filled nor waited its delay");
    }

    // ---- stop ----

    @Test
    void stop_answersEverythingAdmittedAndThenCompletes() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> b = enqueue(rows(1, 3));
        CompletableFuture<InferenceResponse> c = enqueue(rows(2, 3));

        CompletableFuture<Void> drained = scheduler.stop(Duration.ofSeconds(30));

        assertFalse(drained.isDone(), "requests are still running and queued");
        executor.releaseRuns();
        awaitAll(running, List.of(b, c));
        drained.get(10, TimeUnit.SECONDS);
        assertEquals(0, scheduler.inflightCount());
    }

    @Test
    void stop_refusesNewRequestsWithUnavailable() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        scheduler.stop(Duration.ofSeconds(30));

        assertFailsWith(ErrorCode.UNAVAILABLE, enqueue(rows(1, 3)));
        executor.releaseRuns();
        await(running);
    }

    @Test
    void stop_whenIdle_completesAtOnce() throws Exception {
        start(batching(8, 0), Ticker.system());

        scheduler.stop(Duration.ofSeconds(30)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void stop_afterDrainTimeout_answersStillQueuedRequestsUnavailable() throws Exception {
        start(BatchPolicy.unbatched(8, 16, 1), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> queued = enqueue(rows(1, 3));

        CompletableFuture<Void> drained = scheduler.stop(Duration.ofMillis(1));

        assertFailsWith(ErrorCode.UNAVAILABLE, queued);
        assertFalse(drained.isDone(), "one request is still running");
        executor.releaseRuns();
        await(running);
        drained.get(10, TimeUnit.SECONDS);
        assertEquals(1, executor.runs().size());
    }

    @Test
    void stop_whileABatchIsWaitingForMoreRequests_completesOnlyAfterItIsAnswered() throws Exception {
        start(batching(8, LONG_DELAY_MICROS), new ManualTicker());
        CompletableFuture<InferenceResponse> gathering = takenWhileUnderLoad();
        executor.holdRuns();

        CompletableFuture<Void> drained = scheduler.stop(Duration.ofSeconds(30));

        executor.awaitRunsStarted(1);
        assertFalse(drained.isDone(), "drained reported while an admitted request was still running");
        executor.releaseRuns();
        await(gathering);
        drained.get(10, TimeUnit.SECONDS);
    }

    @Test
    void inflightCount_includesARequestWaitingForItsBatchToFill() throws Exception {
        start(batching(8, LONG_DELAY_MICROS), new ManualTicker());
        takenWhileUnderLoad();

        assertEquals(1, scheduler.inflightCount());
    }

    // ---- metrics ----

    @Test
    void metrics_afterRequests_recordOneDurationPerRequestAndOneBatchSizePerRun() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                enqueue(rows(2, 3)), enqueue(rows(1, 3)), enqueue(rows(1, 3)), enqueue(rows(1, 3)));
        executor.releaseRuns();
        awaitAll(first, queued);

        Timer success = registry.find("inference.request.duration")
                .tags("model", "adder", "version", "1", "outcome", "success").timer();
        DistributionSummary batchSize = registry.find("inference.batch.size").summary();
        assertNotNull(success);
        assertNotNull(batchSize);
        assertEquals(5, success.count());
        assertEquals(executor.runs().size(), batchSize.count());
        assertEquals(6.0, batchSize.totalAmount());
    }

    @Test
    void metrics_afterRefusal_recordTheRequestUnderTheErrorOutcome() throws Exception {
        start(BatchPolicy.unbatched(8, 1, 1), Ticker.system());
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> queued = enqueue(rows(1, 3));
        assertFailsWith(ErrorCode.RESOURCE_EXHAUSTED, enqueue(rows(1, 3)));
        executor.releaseRuns();
        awaitAll(running, List.of(queued));

        Timer refused = registry.find("inference.request.duration")
                .tags("outcome", "error", "error", "RESOURCE_EXHAUSTED").timer();
        Timer success = registry.find("inference.request.duration").tags("outcome", "success").timer();
        assertNotNull(refused);
        assertEquals(1, refused.count());
        assertEquals(2, success.count());
    }

    // ---- trace spans and compute shares ----

    @Test
    void execution_ofSeveralRequests_hasOneBatchSpanLinkedToEachTracedRequest_withTheRunUnderIt() throws Exception {
        start(batching(8, 0), Ticker.system());
        CompletableFuture<InferenceResponse> first = holdFirstRun();
        RecordingSpan a = new RecordingSpan("a");
        RecordingSpan b = new RecordingSpan("b");
        List<CompletableFuture<InferenceResponse>> queued = List.of(
                scheduler.enqueue(rows(1, 3), new RequestContext(a)),
                scheduler.enqueue(rows(1, 3), RequestContext.untraced()),
                scheduler.enqueue(rows(2, 3), new RequestContext(b)));
        executor.releaseRuns();
        awaitAll(first, queued);

        assertEquals(List.of(1, 4), rowsPerRun());
        RecordingSpan batch = a.children("gantry.batch").get(0);
        assertEquals(List.of(), b.children("gantry.batch"), "the batch hangs under the first traced request only");
        assertEquals(List.of(a, b), batch.links, "and links to every traced request it served");
        assertEquals(4L, batch.attributes.get(TraceSpan.BATCH_SIZE));
        assertEquals(3L, batch.attributes.get(TraceSpan.BATCH_REQUESTS));
        assertTrue(batch.ended && batch.children("gantry.model.run").get(0).ended);
        for (RecordingSpan r : List.of(a, b)) {
            assertEquals(1, r.children("gantry.queue").size());
            assertTrue(r.children("gantry.queue").get(0).ended, "the queue span ends when the execution starts");
        }
    }

    @Test
    void computeShares_ofAnExecution_addUpToItsDuration_splitByRows() throws Exception {
        start(batching(8, 0), Ticker.system());
        RequestContext firstContext = RequestContext.untraced();
        executor.holdRuns();
        CompletableFuture<InferenceResponse> first = scheduler.enqueue(rows(1, 3), firstContext);
        executor.awaitRunsStarted(1);
        RequestContext one = RequestContext.untraced();
        RequestContext three = RequestContext.untraced();
        List<CompletableFuture<InferenceResponse>> queued = List.of(scheduler.enqueue(rows(1, 3), one),
                scheduler.enqueue(rows(3, 3), three));
        Thread.sleep(5);
        executor.releaseRuns();
        awaitAll(first, queued);

        Timer compute = registry.find(dev.gantry.core.metrics.MetricNames.INFERENCE_COMPUTE_DURATION.meterName())
                .timer();
        assertEquals((long) compute.totalTime(TimeUnit.NANOSECONDS),
                firstContext.computeNanos() + one.computeNanos() + three.computeNanos());
        long excess = three.computeNanos() - 3 * one.computeNanos();
        assertTrue(excess >= 0 && excess <= 3, "shares by rows: " + one.computeNanos() + " / "
                + three.computeNanos());
    }

    @Test
    void everyWorker_attachesToTheExecutorBeforeItsFirstRun() throws Exception {
        start(new BatchPolicy(8, true, 0, List.of(), 16, 0, 3, 0), Ticker.system());
        waitUntil(() -> executor.attachedThreads().size() == 3, "three workers to attach");

        List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>();
        for (int i = 0; i < 12; i++) { // max_queue_size is 16
            answers.add(enqueue(rows(1, 3)));
        }
        awaitAll(answers.get(0), answers.subList(1, answers.size()));

        assertEquals(0, executor.unattachedRuns());
        assertTrue(executor.attachedThreads().stream().allMatch(t -> t.getName().startsWith("gantry-infer-")),
                executor.attachedThreads().toString());
    }

    // ---- helpers ----

    private static BatchPolicy batching(int maxBatchSize, long delayMicros) {
        return new BatchPolicy(maxBatchSize, true, delayMicros, List.of(), 16, 0, 1, 0);
    }

    private static BatchPolicy elementCapped(int maxBatchSize, long maxBatchElements, long delayMicros) {
        return new BatchPolicy(maxBatchSize, true, delayMicros, List.of(), 16, 0, 1, 0, maxBatchElements);
    }

    private void start(BatchPolicy policy, Ticker ticker) {
        scheduler = DynamicBatchScheduler.start(MODEL, executor, policy, InferenceMetrics.register(registry, MODEL),
                timers, ticker);
    }

    /**
     * Admits one request while a first one runs (so it is under load), lets the first finish, and returns once a
     * worker has taken the second off the queue to gather its batch. Two runs are then started or recorded.
     */
    private CompletableFuture<InferenceResponse> takenWhileUnderLoad() throws Exception {
        CompletableFuture<InferenceResponse> running = holdFirstRun();
        CompletableFuture<InferenceResponse> waiting = enqueue(rows(1, 3));
        executor.releaseRuns();
        await(running);
        waitUntil(() -> scheduler.queuedCount() == 0, "the worker to take the request");
        return waiting;
    }

    /** Enqueues one request and returns once its run has started and is held, so later requests pile up. */
    private CompletableFuture<InferenceResponse> holdFirstRun() throws InterruptedException {
        return holdFirstRun(rows(1, 3));
    }

    private CompletableFuture<InferenceResponse> holdFirstRun(InferenceRequest r) throws InterruptedException {
        executor.holdRuns();
        CompletableFuture<InferenceResponse> f = enqueue(r);
        executor.awaitRunsStarted(1);
        return f;
    }

    private CompletableFuture<InferenceResponse> enqueue(InferenceRequest r) {
        return scheduler.enqueue(r);
    }

    /** A request of {@code rows} x {@code cols} values not used by any other request of this test. */
    private InferenceRequest rows(int rows, int cols) {
        return rows(rows, cols, Set.of());
    }

    private InferenceRequest rows(int rows, int cols, Set<String> outputs) {
        float base = nextBase.get(0);
        nextBase.set(0, base + 1000);
        return new InferenceRequest("req-" + (int) base, List.of(Tensors.fp32Rows(INPUT, rows, cols, base)),
                outputs, Optional.empty(), Map.of());
    }

    private static InferenceRequest withTimeout(InferenceRequest r, long micros) {
        return new InferenceRequest(r.id(), r.inputs(), r.requestedOutputs(), Optional.of(micros), r.parameters());
    }

    private List<Integer> rowsPerRun() {
        return executor.runs().stream().map(RecordingExecutor.Run::rows).toList();
    }

    private static List<String> outputNames(InferenceResponse r) {
        return r.outputs().stream().map(Tensor::name).toList();
    }

    private static void assertOwnAnswer(InferenceRequest request, InferenceResponse response) {
        Tensor x = request.inputs().get(0);
        assertEquals(2, response.outputs().size());
        Tensor doubled = response.outputs().get(0);
        Tensor rowSum = response.outputs().get(1);
        assertEquals(DOUBLED, doubled.name());
        assertTrue(RecordingExecutor.doubled(x).contentEquals(doubled), "doubled of " + request.id());
        assertTrue(RecordingExecutor.rowSum(x).contentEquals(rowSum), "row_sum of " + request.id());
    }

    private static InferenceResponse await(CompletableFuture<InferenceResponse> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static void awaitAll(CompletableFuture<InferenceResponse> first,
                                 List<CompletableFuture<InferenceResponse>> rest) throws Exception {
        await(first);
        for (CompletableFuture<InferenceResponse> f : rest) {
            await(f);
        }
    }

    private static GantryException assertFailsWith(ErrorCode code, CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        GantryException g = assertInstanceOf(GantryException.class, e.getCause());
        assertEquals(code, g.code(), g.getMessage());
        return g;
    }

    /** Scheduler threads parked without a timeout: waiting for the queue to become non-empty. */
    private static long idleWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("gantry-infer-" + MODEL.name() + "-" + MODEL.version() + "-"))
                .filter(t -> t.getState() == Thread.State.WAITING)
                .count();
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(/* millis= */ 1); // polling a condition no latch exposes
        }
    }
}
