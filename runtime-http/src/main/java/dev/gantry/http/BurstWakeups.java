package dev.gantry.http;

import dev.gantry.core.scheduling.DeferredWakeups;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/**
 * An event loop's {@link DeferredWakeups.Sink}: the wake-ups of the schedulers its requests entered run once, as
 * a task queued on the loop, which Netty runs after the I/O of the current iteration: every connection that was
 * readable has been read and its request admitted by then, so a model thread wakes to all of them at once.
 */
final class BurstWakeups implements DeferredWakeups.Sink {
    /*
     * The due wake-ups sit in a fixed array scanned whole, empty slots included, rather than a list scanned up
     * to its size. The JIT compiles a branch that has never gone one way as a trap, and this code is inlined
     * into the request path. With a list, while one version took all traffic a burst never held two wake-ups,
     * so the loops never ran a second time and their exits became traps: the first burst with two schedulers
     * in it (a traffic split starting) deoptimized the request path mid-rollout. Scanning every slot, each
     * comparison already sees both outcomes (the used slot, the empty ones) with a single scheduler; and
     * whether the flush is scheduled yet is asked on every call, not only for a wake-up new to the burst
     * (with one scheduler, a new one always found it unscheduled). More
     * schedulers in one burst than slots (many models behind one loop) grow the array once.
     */
    private static final Logger log = LoggerFactory.getLogger(BurstWakeups.class);
    static final int INITIAL_SLOTS = 8;

    private final Context context;
    private final Handler<Void> flush = v -> flush();
    private Runnable[] due = new Runnable[INITIAL_SLOTS];
    private int count;
    private boolean scheduled;

    BurstWakeups(Context context) {
        this.context = context;
    }

    @Override
    public void defer(Runnable wake) {
        Runnable[] slots = due;
        boolean known = false;
        for (int i = 0; i < slots.length; i++) {
            known |= slots[i] == wake;
        }
        if (!known) {
            if (count == slots.length) {
                due = slots = Arrays.copyOf(slots, slots.length * 2);
            }
            slots[count++] = wake;
        }
        // Asked on every call, due or not, so that one scheduler's bursts already take both ways.
        if (!scheduled) {
            scheduled = true;
            context.runOnContext(flush);
        }
    }

    /** How many wake-ups are due; for tests. */
    int dueCount() {
        return count;
    }

    private void flush() {
        scheduled = false;
        // A wake-up that defers another (none does) lands in a slot this loop has yet to reach, so it runs too.
        for (int i = 0; i < due.length; i++) {
            Runnable wake = due[i];
            if (wake != null) {
                due[i] = null;
                try {
                    wake.run();
                } catch (RuntimeException e) {
                    // One scheduler's failure must not leave the others asleep.
                    log.error("waking a scheduler failed", e);
                }
            }
        }
        count = 0;
    }
}
