package dev.gantry.core.scheduling;

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
 * thread with no sink wakes the scheduler at once.
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
    static Sink current() {
        return SINK.get();
    }
}
