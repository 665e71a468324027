package dev.gantry.core.scheduling;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** Creates the executor that runs request timeouts, execution watchdogs and other short timers. */
public final class Timers {
    /*
     * Schedulers no longer schedule a task per request (DynamicBatchScheduler keeps one deadline sweep and one
     * watchdog per worker), but a sweep is cancelled whenever a request with an earlier deadline re-arms it, and
     * other users schedule and cancel short timers. A plain ScheduledThreadPoolExecutor keeps a cancelled task in its queue
     * until its delay passes. The JDK's FutureTask drops its callable on cancel, so a dead task no longer holds
     * the request's tensors, but the task itself (~100 bytes) and its heap slot stay: at tens of thousands of
     * requests per second with a one-minute timeout that is millions of dead tasks (150 MB measured), every
     * schedule and cancel pays O(log n) on the grown heap, and a client-chosen timeout of an hour multiplies it
     * by sixty. With remove-on-cancel the task leaves the queue when it is cancelled, so the queue follows the
     * requests in flight, not the requests of the last timeout period.
     */
    private Timers() {
    }

    /** One daemon thread named {@code threadName}; cancelled tasks are removed from its queue at once. */
    public static ScheduledExecutorService create(String threadName) {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform()
                .daemon(true).name(threadName).unstarted(r));
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }
}
