package dev.gantry.http.inference;

import dev.gantry.core.scheduling.DeferredWakeups;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Answers coming back to one event loop from model threads. Each answer is queued; the first answer of a burst
 * schedules one task on the loop that runs every queued answer. A model thread defers that scheduling to the end
 * of its batch ({@link DeferredWakeups.Collecting}), so a batch's answers wake the loop once, not once each (on a
 * shared core, each wake-up let the loop preempt the model thread to send one response).
 */
final class LoopReturns {
    private static final Logger log = LoggerFactory.getLogger(LoopReturns.class);
    private static final FastThreadLocal<LoopReturns> OF_LOOP = new FastThreadLocal<>();

    private final Context loop;
    private final Queue<Runnable> answers = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Handler<Void> drain = v -> drain();
    private final Runnable schedule = this::schedule;

    private LoopReturns(Context loop) {
        this.loop = loop;
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            loop.runOnContext(drain);
        }
    }

    /** The returns of the calling event loop, whose context is {@code loop}; call on that loop. */
    static LoopReturns of(Context loop) {
        LoopReturns r = OF_LOOP.get();
        if (r == null) {
            // The loop's own context, not a request's duplicate: the answers run their requests' own code, and
            // a request's context-local data must not be what every later answer runs under.
            r = new LoopReturns(loop instanceof io.vertx.core.internal.ContextInternal c ? c.unwrap() : loop);
            OF_LOOP.set(r);
        }
        return r;
    }

    /** Runs {@code answer} on the loop: with this burst's other answers when called on a model thread. */
    void add(Runnable answer) {
        answers.offer(answer);
        DeferredWakeups.Sink sink = DeferredWakeups.current();
        if (sink != null) {
            sink.defer(schedule);
        } else {
            schedule.run();
        }
    }

    private void drain() {
        // Cleared before polling: an answer queued from here on schedules another drain, none is left behind.
        scheduled.set(false);
        Runnable answer;
        while ((answer = answers.poll()) != null) {
            try {
                answer.run();
            } catch (RuntimeException e) {
                log.error("answering a request failed", e);
            }
        }
    }
}
