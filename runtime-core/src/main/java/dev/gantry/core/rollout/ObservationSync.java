package dev.gantry.core.rollout;

import dev.gantry.core.metrics.VersionStats;
import dev.gantry.store.rollout.RolloutObservation;
import dev.gantry.store.rollout.RolloutObservation.Side;
import dev.gantry.store.rollout.RolloutObservationStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Shares this server's counts of every active rollout's step with the other servers on the catalogue, and gives
 * the server that analyses the rollouts (the background lease holder) what the others shared: so the analysis
 * counts the requests of every server, and a new lease holder keeps the step's counts.
 */
public final class ObservationSync implements AutoCloseable {
    /*
     * One round every EVERY on a thread of its own (gantry-rollout-observations: never an event loop nor an
     * inference thread, and a slow database delays nothing else):
     *   1. write: this server's window of each active rollout (Rollouts.windows(): the counts since the step began
     *      here, candidate and baseline read at one moment), and the final window of each step it left, as one
     *      row per rollout, step, server and side, in one transaction. A row is written only when its counts
     *      changed since this server last wrote it, so an idle rollout costs nothing.
     *   2. read (the lease holder only): every other server's rows of each running rollout's current step,
     *      summed per side (ObservationSync.merge), handed to Rollouts.observedElsewhere; the holder adds its own
     *      live window when it ticks.
     *   3. sweep (the lease holder only): the rows of ended rollouts are deleted, at once when a rollout this
     *      server tracked ends and every SWEEP_EVERY in any case (rows a server wrote just after the end).
     * A failed round is logged and the next one retries (rows hold absolute counts, so nothing is counted twice).
     * close() writes one last time, so a server that stops leaves its counts to the next holder.
     */
    private static final Logger log = LoggerFactory.getLogger(ObservationSync.class);
    static final Duration EVERY = Duration.ofSeconds(1);
    static final Duration SWEEP_EVERY = Duration.ofMinutes(1);
    private static final List<String> ACTIVE = List.of(RolloutState.PENDING.name(), RolloutState.RUNNING.name(),
            RolloutState.PAUSED.name());

    private final Rollouts rollouts;
    private final RolloutObservationStore store;
    private final String replicaId;
    private final BooleanSupplier analyses;
    /** What this server last wrote, by key; touched only in syncNow. */
    private final Map<String, RolloutObservation> written = new HashMap<>();
    private Set<String> tracked = Set.of();
    private long lastSweep = System.nanoTime();
    private ScheduledExecutorService thread;
    private boolean closed;

    /** The summed counts of the other servers' observations of one step. */
    record Merged(VersionStats.Counts candidate, VersionStats.Counts baseline, int replicas) {
    }

    private ObservationSync(Rollouts rollouts, RolloutObservationStore store, String replicaId,
                            BooleanSupplier analyses) {
        this.rollouts = rollouts;
        this.store = store;
        this.replicaId = replicaId;
        this.analyses = analyses;
    }

    /**
     * Sharing over {@code store} for the server {@code replicaId}; from now on {@code rollouts} counts what the
     * others share. Nothing is written until {@link #start()} (or {@link #syncNow()}).
     *
     * @param analyses whether this server analyses the rollouts now (holds the background lease)
     */
    public static ObservationSync over(Rollouts rollouts, RolloutObservationStore store, String replicaId,
                                       BooleanSupplier analyses) {
        rollouts.shareObservations();
        return new ObservationSync(rollouts, store, replicaId, analyses);
    }

    /** Runs a round every {@link #EVERY} on a thread of its own. */
    public synchronized void start() {
        if (thread != null || closed) {
            return;
        }
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon(true)
                .name("gantry-rollout-observations").unstarted(r));
        t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        t.scheduleWithFixedDelay(this::round, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
        thread = t;
    }

    private void round() {
        try {
            syncNow();
        } catch (RuntimeException e) {
            log.warn("sharing rollout observations failed (retried in {} ms): {}", EVERY.toMillis(), e.toString());
        }
    }

    /** One round now: writes what changed, then, on the lease holder, reads the others' counts and sweeps. */
    public synchronized void syncNow() {
        write(rollouts.windows());
        if (!closed && analyses.getAsBoolean()) {
            read();
            sweep();
        }
    }

    private void write(List<Rollouts.Window> windows) {
        List<RolloutObservation> changed = new ArrayList<>();
        Set<String> keep = new HashSet<>();
        for (Rollouts.Window w : windows) {
            for (RolloutObservation o : List.of(observation(w, Side.CANDIDATE, w.candidate()),
                    observation(w, Side.BASELINE, w.baseline()))) {
                String key = key(o);
                keep.add(key);
                RolloutObservation before = written.get(key);
                boolean empty = (o.side() == Side.CANDIDATE ? w.candidate() : w.baseline()).isEmpty();
                if (before == null ? !empty : !before.sameCounts(o)) {
                    changed.add(o);
                }
            }
        }
        store.put(changed);
        for (RolloutObservation o : changed) {
            written.put(key(o), o);
        }
        written.keySet().retainAll(keep);
    }

    private void read() {
        for (Map.Entry<String, Integer> r : rollouts.running().entrySet()) {
            Merged m = merge(store.step(r.getKey(), r.getValue()), replicaId);
            rollouts.observedElsewhere(r.getKey(), r.getValue(), m.candidate(), m.baseline(), m.replicas());
        }
    }

    private void sweep() {
        Set<String> now = rollouts.activeIds();
        boolean ended = !now.containsAll(tracked);
        tracked = now;
        if (ended || System.nanoTime() - lastSweep >= SWEEP_EVERY.toNanos()) {
            lastSweep = System.nanoTime();
            int n = store.deleteEnded(ACTIVE);
            if (n > 0) {
                log.debug("deleted {} observations of ended rollouts", n);
            }
        }
    }

    /**
     * The observations of one step by every server but {@code except}, summed per side: each counter and each
     * latency bucket added, so percentiles of the sum are those of all the requests together; replicas is the
     * number of servers that counted anything.
     */
    static Merged merge(List<RolloutObservation> rows, String except) {
        VersionStats.Counts c = VersionStats.Counts.ZERO;
        VersionStats.Counts b = VersionStats.Counts.ZERO;
        Set<String> replicas = new HashSet<>();
        for (RolloutObservation o : rows) {
            if (o.replicaId().equals(except)) {
                continue;
            }
            VersionStats.Counts n = counts(o);
            if (!n.isEmpty()) {
                replicas.add(o.replicaId());
            }
            if (o.side() == Side.CANDIDATE) {
                c = c.plus(n);
            } else {
                b = b.plus(n);
            }
        }
        return new Merged(c, b, replicas.size());
    }

    static VersionStats.Counts counts(RolloutObservation o) {
        return new VersionStats.Counts(o.offered(), o.requests(), o.errors(), o.compared(), o.agreed(),
                Arrays.copyOf(o.latency(), VersionStats.BUCKETS));
    }

    private RolloutObservation observation(Rollouts.Window w, Side side, VersionStats.Counts n) {
        return new RolloutObservation(w.rolloutId(), w.stepIndex(), replicaId, side, n.offered(), n.requests(),
                n.errors(), n.compared(), n.agreed(), n.latency());
    }

    private static String key(RolloutObservation o) {
        return o.rolloutId() + "|" + o.stepIndex() + "|" + o.side();
    }

    /** Stops the rounds and writes this server's counts one last time; call before the catalogue closes. */
    @Override
    public void close() {
        ScheduledExecutorService t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.shutdownNow();
            try {
                t.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            closed = true;
            try {
                write(rollouts.windows());
            } catch (RuntimeException e) {
                log.warn("writing the last rollout observations failed: {}", e.toString());
            }
        }
    }
}
