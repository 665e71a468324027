package dev.gantry.core.scheduling;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** Creates the executor that runs request timeouts, execution watchdogs and other short timers. */
public final class Timers {
    /*
     * Every admitted request schedules a timeout task that is cancelled when the request leaves the queue. A
     * plain ScheduledThreadPoolExecutor keeps a cancelled task in its queue until the delay passes, and the task
     * holds the request (its tensors, its response): at tens of thousands of requests per second with a
     * one-minute timeout that is millions of dead tasks, and a client-chosen timeout of an hour keeps every
     * completed request alive for an hour. With remove-on-cancel the task leaves the queue when it is cancelled,
     * so memory follows the requests in flight, not the requests of the last timeout period.
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
