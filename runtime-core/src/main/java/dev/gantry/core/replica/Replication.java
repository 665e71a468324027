package dev.gantry.core.replica;

import dev.gantry.core.governance.Governance;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.store.catalog.BackgroundLease;
import dev.gantry.store.catalog.CatalogChange;
import dev.gantry.store.catalog.CatalogChangeFeed;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.LeaseLostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What keeps one server in step with the others sharing its catalogue: it follows the catalogue's changes and
 * refreshes what this server holds in memory (release stages, traffic policies, rollouts), and it holds or
 * waits for the background lease, which decides whether this server runs the sunset retirement and rollout
 * analysis. On an embedded catalogue (one process) it follows nothing and always holds the lease.
 */
public final class Replication implements AutoCloseable {
    /*
     * Changes arrive on the feed's thread (gantry-catalog-changes) and are applied one at a time, in commit
     * order, on gantry-replica; a change waits there until start() says the server's own state is restored (the
     * feed starts before the restore, at the head of the audit chain, so nothing committed in between is missed;
     * a change the restore already read is applied again, which is harmless: every refresh reads the stored state
     * and publishes it only when newer).
     *
     * A change made through this server comes back too; refreshing it is a no-op (the same stage, the revision
     * already in force), so the audit entry's actor need not say which server made it.
     *
     * Which refresh an audited action needs, by its prefix (target "model/version", "model" or "key:<id>"):
     *   version.*, card.*      the version's release stage (governance snapshot)
     *   policy.*               the model's traffic policy (loading what it routes from the models directory)
     *   rollout.*              the model's rollouts
     *   version.load/unload, model.load/unload
     *                          nothing: loading is each server's own business
     *   key:*                  the API keys (shared catalogue): run on the feed's thread at once, not queued
     *                              behind the restore or a policy's loads, so a revoked key stops working here
     *                              within the second even while this server is still starting
     *   anything else          all three for the model
     *
     * The lease is checked every LEASE_CHECK on gantry-lease; when this server gains it, it resumes the
     * rollouts that are running (the step's counts every server shared stay counted, see ObservationSync).
     * Background work runs through runFenced: each of its catalogue writes commits only if the database confirms
     * in that write's transaction that this server still holds the lease (BackgroundLease.fenced), so a holder
     * whose lease session the database dropped cannot commit a decision after another server took over.
     */
    private static final Logger log = LoggerFactory.getLogger(Replication.class);
    /** How often the feed checks the head of the audit chain when no notification arrives. */
    static final Duration SAFETY_CHECK = Duration.ofSeconds(2);
    /** How often the background lease is taken or confirmed. */
    static final Duration LEASE_CHECK = Duration.ofSeconds(1);
    private static final long LOAD_WAIT_SECONDS = 120;
    /** How long a failed refresh waits before its one retry. */
    private static final Duration RETRY_DELAY = Duration.ofSeconds(1);
    /**
     * How long a client's change waits for this server to apply what was committed before it (above the
     * {@link #SAFETY_CHECK}, so a missed notification is made up for); after it the change goes ahead as before.
     */
    static final Duration CATCH_UP_LIMIT = Duration.ofSeconds(5);

    private final boolean shared;
    private final String replicaId = ReplicaId.create();
    private final Governance governance;
    private final DeploymentManager deployments;
    private final Rollouts rollouts;
    private final BackgroundLease lease;
    private final ExecutorService refresher;
    private final ScheduledExecutorService leaseChecks;
    private final CountDownLatch restored = new CountDownLatch(1);
    private volatile CatalogChangeFeed feed;
    private volatile long applied;
    private volatile long head;
    private volatile long lastChangeMillis = -1;
    private volatile boolean closed;
    private volatile Runnable keysChanged = () -> {
    };
    private volatile Thread refresherThread;
    /** The head of the catalogue when {@link #start} ran; -1 before (or when not shared). */
    private volatile long startHead = -1;
    private volatile boolean caughtUpAtStart;
    private final Object progress = new Object();

    /**
     * Where this server stands: the changes it has applied, the newest committed, and whether it holds the lease.
     *
     * @param lastLagMillis from the last applied change's commit (the writing server's clock) to its refresh
     *     here, or -1 before the first
     * @param replicaId this server's name among those sharing the catalogue ({@link ReplicaId})
     */
    public record Status(boolean shared, long applied, long head, boolean caughtUp, boolean backgroundLease,
                         long lastLagMillis, String replicaId) {
    }

    private Replication(CatalogStore catalog, boolean shared, Governance governance, DeploymentManager deployments,
                        Rollouts rollouts) {
        this.shared = shared;
        this.governance = governance;
        this.deployments = deployments;
        this.rollouts = rollouts;
        this.lease = BackgroundLease.over(catalog);
        this.refresher = Executors.newSingleThreadExecutor(r -> {
            Thread t = Thread.ofPlatform().daemon(true).name("gantry-replica").unstarted(r);
            refresherThread = t;
            return t;
        });
        this.leaseChecks = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("gantry-lease").unstarted(r));
    }

    /**
     * Replication over {@code catalog}: when it is shared, starts following its changes now (they are applied
     * once {@link #start} is called).
     */
    public static Replication follow(CatalogStore catalog, boolean shared, Governance governance,
                                     DeploymentManager deployments, Rollouts rollouts) {
        Replication r = new Replication(catalog, shared, governance, deployments, rollouts);
        if (shared) {
            r.refresher.execute(r::awaitRestored);
            r.feed = CatalogChangeFeed.start(catalog, SAFETY_CHECK, r::enqueue);
            r.applied = r.feed.position();
            r.head = r.applied;
            deployments.catchUpWith(() -> r.awaitCaughtUp(CATCH_UP_LIMIT));
        }
        return r;
    }

    /**
     * Call once this server's state is restored: applies the changes that arrived meanwhile, takes the lease if
     * it is free (resuming running rollouts when it does) and checks it every {@link #LEASE_CHECK} on a thread
     * of its own (gantry-lease: a slow database delays no timer of the server).
     */
    public void start() {
        restored.countDown();
        if (!shared) {
            rollouts.resumeAll();
            return;
        }
        rollouts.followAll();
        checkLease(); // reads the head too
        startHead = head;
        leaseChecks.scheduleWithFixedDelay(this::checkLease, LEASE_CHECK.toMillis(), LEASE_CHECK.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Whether this server has applied every change committed to the catalogue before it started: what its
     * readiness waits for, so a load balancer sends it no request while it would still route by a policy, a
     * release stage or a key that another server has changed. Once true it stays true: falling a change behind
     * later is reported in {@link #status} but takes no server out of the pool (a slow database would otherwise
     * take every replica out at once). Always true when the catalogue is not shared.
     */
    public boolean caughtUpSinceStart() {
        if (!shared || caughtUpAtStart) {
            return true;
        }
        long target = startHead;
        if (target >= 0 && applied >= target) {
            caughtUpAtStart = true;
        }
        return caughtUpAtStart;
    }

    /** Whether this server runs the background work (sunset retirement, rollout analysis) now. */
    public boolean holdsLease() {
        return lease.held();
    }

    /**
     * Runs background work (a rollout tick, the sunset retirement) fenced by the lease: each catalogue write it
     * makes on this thread commits only while the database confirms this server holds the lease. A write refused
     * ends the work (the refusal is logged once, the lease taken as lost until its next check); the writes it
     * committed before stay. On an embedded catalogue it just runs {@code work}.
     */
    public void runFenced(Runnable work) {
        try {
            lease.fenced(work);
        } catch (LeaseLostException e) {
            log.debug("background work stopped: {}", e.getMessage());
        }
    }

    /** This server's name among those sharing the catalogue, stable for the process's life. */
    public String replicaId() {
        return replicaId;
    }

    /** Where this server stands; reads nothing from the database. */
    public Status status() {
        long a = applied;
        long h = Math.max(head, a);
        return new Status(shared, a, h, a >= h, lease.held(), lastChangeMillis, replicaId);
    }

    /**
     * Waits until this server has applied every change committed to the catalogue before the call (the head read
     * now), at most {@code limit}: a change a client makes through this server right after another server
     * acknowledged one must start from that one. Returns at once on the refresher's own thread, before
     * {@link #start}, and when not shared.
     *
     * @return whether this server caught up
     */
    public boolean awaitCaughtUp(Duration limit) {
        CatalogChangeFeed f = feed;
        if (f == null || closed || restored.getCount() > 0 || Thread.currentThread() == refresherThread) {
            return f == null;
        }
        long target;
        try {
            target = f.head();
        } catch (RuntimeException e) {
            log.debug("reading the catalogue head: {}", e.getMessage());
            return false;
        }
        head = Math.max(head, target);
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (progress) {
            while (applied < target && !closed) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    log.warn("a change asked for here waited {} ms for this server to apply catalogue change {} (it"
                            + " is at {}); going ahead", limit.toMillis(), target, applied);
                    return false;
                }
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return applied >= target;
    }

    private void checkLease() {
        if (closed) {
            return;
        }
        boolean before = lease.held();
        boolean now = lease.check();
        if (now && !before) {
            try {
                runFenced(rollouts::resumeAll);
            } catch (RuntimeException e) {
                log.error("resuming rollouts after taking the background lease failed", e);
            }
        }
        CatalogChangeFeed f = feed;
        if (f != null) {
            try {
                head = f.head();
            } catch (RuntimeException e) {
                log.debug("reading the catalogue head: {}", e.getMessage());
            }
        }
    }

    private void awaitRestored() {
        try {
            restored.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code r} on each change to the API keys (a {@code key:*} entry) committed by any server. */
    public void onKeyChange(Runnable r) {
        keysChanged = r;
    }

    private void enqueue(CatalogChange change) {
        if (!closed) {
            head = Math.max(head, change.seq());
            if (isKeyChange(change)) {
                try {
                    keysChanged.run();
                } catch (RuntimeException e) {
                    log.error("refreshing the API keys after catalogue change {} failed", change.seq(), e);
                }
            }
            refresher.execute(() -> apply(change));
        }
    }

    private void apply(CatalogChange change) {
        if (closed) {
            return;
        }
        try {
            refresh(change);
        } catch (RuntimeException e) {
            // Usually the database for a moment: try once more off the queue, so the change is not lost until
            // the next one to the same model (a refresh reads what is stored, so a late one is harmless).
            log.error("refreshing after catalogue change {} ({} {}) failed; trying again in {} ms", change.seq(),
                    change.action(), change.target(), RETRY_DELAY.toMillis(), e);
            try {
                leaseChecks.schedule(() -> refresher.execute(() -> retry(change)), RETRY_DELAY.toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closing: nothing to keep in step any more
            }
        }
        applied = change.seq();
        lastChangeMillis = Math.max(0, System.currentTimeMillis() - change.time().toEpochMilli());
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    private void retry(CatalogChange change) {
        if (closed) {
            return;
        }
        try {
            refresh(change);
        } catch (RuntimeException e) {
            log.error("refreshing after catalogue change {} failed again; the next change to {} refreshes it",
                    change.seq(), change.target(), e);
        }
    }

    private void refresh(CatalogChange change) {
        String target = change.target() == null ? "" : change.target();
        String action = change.action() == null ? "" : change.action();
        if (target.isEmpty() || isKeyChange(change)) {
            return; // keys: refreshed by enqueue
        }
        int slash = target.indexOf('/');
        String model = slash < 0 ? target : target.substring(0, slash);
        Long version = null;
        if (slash >= 0) {
            try {
                version = Long.parseLong(target.substring(slash + 1));
            } catch (NumberFormatException e) {
                version = null;
            }
        }
        switch (action) {
            case "version.load", "version.unload", "version.load_refused", "model.load", "model.unload" -> {
                return;
            }
            default -> {
            }
        }
        if (action.startsWith("version.") || action.startsWith("card.")) {
            if (version == null) {
                governance.reload(model);
            } else {
                governance.reload(model, version);
            }
        } else if (action.startsWith("policy.")) {
            followDeployment(model);
        } else if (action.startsWith("rollout.")) {
            rollouts.follow(model);
        } else {
            governance.reload(model);
            followDeployment(model);
            rollouts.follow(model);
        }
    }

    private static boolean isKeyChange(CatalogChange change) {
        return (change.target() != null && change.target().startsWith("key:"))
                || (change.action() != null && change.action().startsWith("key."));
    }

    private void followDeployment(String model) {
        try {
            deployments.follow(model).get(LOAD_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            log.warn("model '{}': the catalogue's revision is still loading after {} s; applying later changes "
                    + "meanwhile", model, LOAD_WAIT_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            log.error("model '{}': following the catalogue's revision failed: {}", model, e.getCause().toString());
        }
    }

    /** Stops following and releases the lease; call before the catalogue closes. */
    @Override
    public void close() {
        closed = true;
        synchronized (progress) {
            progress.notifyAll();
        }
        restored.countDown();
        CatalogChangeFeed f = feed;
        if (f != null) {
            f.close();
        }
        refresher.shutdownNow();
        leaseChecks.shutdownNow();
        try {
            refresher.awaitTermination(5, TimeUnit.SECONDS);
            leaseChecks.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lease.close();
    }
}
