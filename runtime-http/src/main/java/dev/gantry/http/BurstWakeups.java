package dev.gantry.http;

import dev.gantry.core.scheduling.DeferredWakeups;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * An event loop's {@link DeferredWakeups.Sink}: the wake-ups of the schedulers its requests entered run once, as
 * a task queued on the loop, which Netty runs after the I/O of the current iteration: every connection that was
 * readable has been read and its request admitted by then, so a model thread wakes to all of them at once.
 */
final class BurstWakeups implements DeferredWakeups.Sink {
    private static final Logger log = LoggerFactory.getLogger(BurstWakeups.class);

    private final Context context;
    private final List<Runnable> pending = new ArrayList<>(4);
    private final Handler<Void> flush = v -> flush();
    private boolean scheduled;

    BurstWakeups(Context context) {
        this.context = context;
    }

    @Override
    public void defer(Runnable wake) {
        for (int i = 0; i < pending.size(); i++) {
            if (pending.get(i) == wake) {
                return; // already due in this burst
            }
        }
        pending.add(wake);
        if (!scheduled) {
            scheduled = true;
            context.runOnContext(flush);
        }
    }

    private void flush() {
        scheduled = false;
        for (int i = 0; i < pending.size(); i++) {
            try {
                pending.get(i).run();
            } catch (RuntimeException e) {
                // One scheduler's failure must not leave the others asleep.
                log.error("waking a scheduler failed", e);
            }
        }
        pending.clear();
    }
}
