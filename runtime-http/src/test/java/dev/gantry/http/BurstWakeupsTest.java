package dev.gantry.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A burst's wake-ups run once each, after the burst, on the event loop, however many schedulers it touched. */
class BurstWakeupsTest {
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Runs {@code burst} as one task on {@code context}, then waits until the tasks it queued have run too. */
    private static void onLoop(Context context, Runnable burst) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        context.runOnContext(v -> {
            burst.run();
            context.runOnContext(w -> done.complete(null)); // queued behind the sink's flush
        });
        done.get(10, TimeUnit.SECONDS);
    }

    @Test
    void twoSchedulersInOneBurst_eachWakesOnce_afterTheBurst() throws Exception {
        Context context = vertx.getOrCreateContext();
        BurstWakeups sink = new BurstWakeups(context);
        AtomicInteger a = new AtomicInteger();
        AtomicInteger b = new AtomicInteger();
        Runnable wakeA = a::incrementAndGet;
        Runnable wakeB = b::incrementAndGet;
        List<Integer> duringBurst = new ArrayList<>();

        onLoop(context, () -> {
            sink.defer(wakeA);
            sink.defer(wakeB);
            sink.defer(wakeA);
            sink.defer(wakeB);
            duringBurst.add(a.get() + b.get());
            duringBurst.add(sink.dueCount());
        });

        assertEquals(List.of(0, 2), duringBurst, "nothing runs inside the burst; two distinct wake-ups are due");
        assertEquals(1, a.get());
        assertEquals(1, b.get());
        assertEquals(0, sink.dueCount());

        onLoop(context, () -> sink.defer(wakeB));
        assertEquals(1, a.get(), "a later burst runs only what it deferred");
        assertEquals(2, b.get());
    }

    @Test
    void moreSchedulersThanSlots_allWakeOnce_andAFailingOneStopsNoOther() throws Exception {
        Context context = vertx.getOrCreateContext();
        BurstWakeups sink = new BurstWakeups(context);
        int n = BurstWakeups.INITIAL_SLOTS * 2 + 3;
        AtomicInteger[] woken = new AtomicInteger[n];
        List<Runnable> wakes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AtomicInteger w = woken[i] = new AtomicInteger();
            wakes.add(i == 1 ? () -> {
                w.incrementAndGet();
                throw new IllegalStateException("scheduler closed");
            } : w::incrementAndGet);
        }

        onLoop(context, () -> {
            for (int round = 0; round < 3; round++) {
                wakes.forEach(sink::defer);
            }
        });

        for (int i = 0; i < n; i++) {
            assertEquals(1, woken[i].get(), "wake-up " + i);
        }
        assertEquals(0, sink.dueCount());
    }
}
