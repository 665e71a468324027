package dev.gantry.core.scheduling;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Lets a thread that admits many requests in one burst (an event loop reading every connection that became
 * readable) wake a scheduler's threads once, at the end of the burst, instead of once per request.
 *
 * <p>Why. With one core shared by the event loop and the model thread, a wake-up per admitted request let the
 * model thread preempt the event loop after the first or second request of a burst: batches of ~2 rows under 16
 * connections, and two context switches per execution. Deferred to the end of the burst, the model thread wakes
 * to every request the burst admitted. An idle server pays one task hop on the admitting thread (the burst is one
 * request), not a delay.
 *
 * <p>The thread installs a {@link Sink} once ({@link #install}); the sink must run every deferred task on that
 * same thread soon after the current burst (an event loop: as a task queued behind the I/O it is handling). A
 * thread with no sink wakes the scheduler at once. The other direction uses the same sinks: a model thread
 * collects the hand-backs its batch's completions defer to event loops and runs them once the batch is answered
 * ({@link Collecting}).
 */
public final class DeferredWakeups {
    /** Runs deferred wake-ups on its thread after the current burst of work. */
    public interface Sink {
        /** Runs {@code wake} on this thread after the current burst; the same task deferred twice may run once. */
        void defer(Runnable wake);
    }

    private static final ThreadLocal<Sink> SINK = new ThreadLocal<>();

    private DeferredWakeups() {
    }

    /** Installs {@code sink} for the calling thread (null removes it). */
    public static void install(Sink sink) {
        if (sink == null) {
            SINK.remove();
        } else {
            SINK.set(sink);
        }
    }

    /** The calling thread's sink, or null. */
    public static Sink current() {
        return SINK.get();
    }

    /**
     * A sink for a thread that knows where its bursts end: it collects the deferred tasks (each once) and runs
     * them when told ({@link #runAll}). A model thread uses one per execution, so the completions of a batch hand
     * their answers back to each event loop with one wake-up instead of one per request.
     */
    public static final class Collecting implements Sink {
        private static final Logger log = LoggerFactory.getLogger(Collecting.class);
        private final List<Runnable> pending = new ArrayList<>(4);

        @Override
        public void defer(Runnable wake) {
            for (int i = 0; i < pending.size(); i++) {
                if (pending.get(i) == wake) {
                    return;
                }
            }
            pending.add(wake);
        }

        /** Runs what was deferred since the last call, in order; one task's failure does not stop the others. */
        public void runAll() {
            // A task may defer again (it runs on this thread): those run in this call too, after it.
            while (!pending.isEmpty()) {
                Runnable[] now = pending.toArray(new Runnable[0]);
                pending.clear();
                for (Runnable task : now) {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.error("a deferred wake-up failed", e);
                    }
                }
            }
        }
    }
}
