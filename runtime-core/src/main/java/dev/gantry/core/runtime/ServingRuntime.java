package dev.gantry.core.runtime;

import dev.gantry.core.access.KeyLineage;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.journal.CrashJournal;
import dev.gantry.core.governance.Governance;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.release.ArtifactVerifier;
import dev.gantry.core.release.Releases;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSettings;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.core.routing.RandomSource;
import dev.gantry.core.routing.ShadowRunner;
import dev.gantry.store.artifact.ArtifactLimits;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.repository.ModelRepository;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.store.catalog.JdbcRolloutStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything the core runs for one server, built in one place: the model lifecycle and repository, the catalogue,
 * release rules and workflow, deployments and routing, shadow traffic and the audit trail. Transports (HTTP,
 * and later gRPC) use what this exposes and never the stores behind it.
 */
public final class ServingRuntime implements AutoCloseable {
    /*
     * Start order: whether this is the first start (the catalogue has neither versions nor audit entries) is
     * decided when it is opened, before anything writes; the repository is scanned and its selected versions load,
     * each checked against the model file digest the catalogue recorded; uploads interrupted between their
     * commit and their rename are failed, and versions the catalogue has never seen are catalogued (adopted as
     * APPROVED at the first start only, else registered and validated); persisted deployments are restored (loading what their policies route); then the
     * sunset sweep runs every second. Close order is the reverse, the catalogue last.
     */
    private static final Logger log = LoggerFactory.getLogger(ServingRuntime.class);
    /** How often running rollouts are analysed. */
    static final long ROLLOUT_TICK_MS = 200;

    private final ExecutorService loaders;
    private final ScheduledExecutorService timers;
    /**
     * Sunset retirement and rollout ticks: catalogue round trips (on PostgreSQL, over the network) on a thread of
     * their own, so a slow database delays no request deadline, watchdog or drain timer on gantry-timers.
     */
    private final ScheduledExecutorService background =
            dev.gantry.core.scheduling.Timers.create("gantry-background");
    private final CatalogStore catalog;
    private final ModelLifecycle lifecycle;
    private final ModelRepositoryManager repository;
    private final AuditTrail audit;
    private final Governance governance;
    private final DeploymentManager deployments;
    private final ShadowRunner shadows;
    private final ModelRouter router;
    private final Releases releases;
    private final boolean firstStart;
    private final CrashJournal journal;
    private final VersionStats stats = new VersionStats();
    private final Rollouts rollouts;
    private final ArtifactStore artifacts;
    private final dev.gantry.core.replica.Replication replication;
    private final Optional<dev.gantry.core.rollout.ObservationSync> observations;

    private ServingRuntime(RuntimeSettings settings, ExecutorFactory factory, MeterRegistry registry, Clock clock,
                           KeyLineage lineage, ScheduledExecutorService timers, ExecutorService loaders,
                           CatalogStore catalog, ArtifactStore artifacts, CrashJournal journal) {
        this.timers = timers;
        this.loaders = loaders;
        this.catalog = catalog;
        this.journal = journal;
        this.lifecycle = new ModelLifecycle(settings.lifecycle(), registry, factory, loaders, timers,
                Containment.sandbox(settings, registry), journal,
                Containment.isolation(settings.dataDir(), (id, reason) -> suspendCrashing(id, reason)));
        this.repository = new ModelRepositoryManager(ModelRepository.onDisk(settings.modelsDir()), lifecycle);
        this.audit = new AuditTrail(catalog);
        this.firstStart = catalog.versions().isEmpty() && catalog.audit(AuditQuery.all().limit(1)).isEmpty();
        lifecycle.setArtifactCheck(ArtifactVerifier.create(catalog, artifacts, audit));
        this.governance = Governance.create(catalog, settings.cardPolicy(), clock, lineage);
        DeploymentArchive archive = DeploymentArchive.in(catalog);
        this.deployments = DeploymentManager.create(repository, archive,
                new DeploymentSettings(settings.standbyCount(), 1000), clock, registry, governance.trafficGate(), audit);
        this.shadows = ShadowRunner.start(lifecycle, registry, settings.shadowQueueSize(),
                settings.lifecycle().requestTimeout(), stats);
        this.router = ModelRouter.create(repository, deployments, shadows, registry, RandomSource.threadLocal(),
                governance.trafficGate(), stats, settings.fallback());
        this.rollouts = Rollouts.create(deployments, governance.trafficGate(), stats, JdbcRolloutStore.of(catalog),
                Optional.of(audit), registry, clock);
        this.releases = Releases.create(governance, catalog, archive, artifacts, repository, deployments, audit,
                clock, settings.unusedAfter(), settings.uploads());
        this.artifacts = artifacts;
        if (releases.fetchesMissing()) {
            repository.fetchMissingFrom((model, version) -> CompletableFuture.supplyAsync(
                    () -> releases.fetchIfMissing(model, version), loaders));
        }
        this.replication = dev.gantry.core.replica.Replication.follow(catalog, !settings.catalog().isEmbedded(),
                governance, deployments, rollouts);
        this.observations = settings.catalog().isEmbedded() ? Optional.empty()
                : Optional.of(dev.gantry.core.rollout.ObservationSync.over(rollouts,
                dev.gantry.store.catalog.JdbcRolloutObservationStore.of(catalog), replication.replicaId(),
                replication::holdsLease));
        lifecycle.onReady(router::prepare);
        lifecycle.onReady(releases::prepare);
        for (CrashJournal.ExecutingAtExit c : Containment.crashesFound(journal, settings.dataDir(), registry)) {
            suspendCrashing(c.version(), c.describe());
        }
        lifecycle.guardLoads(Containment.guard(journal, governance.trafficGate()));
    }

    /** A version that crashed the server, or whose isolated worker keeps crashing, takes no more traffic. */
    private void suspendCrashing(dev.gantry.core.model.ModelId id, String reason) {
        log.error("{}: {}; suspending it", id, reason);
        try {
            governance.suspend(id.name(), id.version(), dev.gantry.core.access.Actor.SYSTEM, reason);
        } catch (RuntimeException e) {
            log.error("could not suspend {}: {}", id, e.getMessage());
        }
    }

    /**
     * Opens the catalogue and the artifact store (removing what interrupted uploads left) and builds the core.
     * Nothing loads until {@link #start()}.
     *
     * @throws IllegalStateException naming the data or models directory that cannot be used
     */
    public static ServingRuntime open(RuntimeSettings settings, ExecutorFactory factory, MeterRegistry registry,
                                      Clock clock, KeyLineage lineage) {
        AtomicInteger n = new AtomicInteger();
        ExecutorService loaders = Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon(true)
                .name("gantry-model-loader-" + n.incrementAndGet()).unstarted(r));
        ScheduledExecutorService timers = dev.gantry.core.scheduling.Timers.create("gantry-timers");
        CatalogStore catalog = null;
        try {
            catalog = CatalogStore.open(settings.catalog(), settings.dataDir(), clock, settings.auditKeyFile());
            ArtifactStore artifacts = settings.sharedArtifacts()
                    .map(s3 -> ArtifactStore.shared(settings.modelsDir(), ArtifactLimits.defaults(), s3))
                    .orElseGet(() -> ArtifactStore.inRepository(settings.modelsDir(), ArtifactLimits.defaults()));
            log.info("uploaded artifacts are kept in {}", artifacts.location());
            List<Path> leftovers = artifacts.cleanStaging();
            if (!leftovers.isEmpty()) {
                log.warn("removed {} leftovers of interrupted uploads: {}", leftovers.size(), leftovers);
            }
            return new ServingRuntime(settings, factory, registry, clock, lineage, timers, loaders, catalog, artifacts,
                    CrashJournal.open(settings.dataDir()));
        } catch (RuntimeException e) {
            loaders.shutdownNow();
            timers.shutdownNow();
            if (catalog != null) {
                catalog.close();
            }
            throw new IllegalStateException("cannot open the catalogue in " + (settings.catalog().isEmbedded()
                    ? settings.dataDir() : settings.catalog()) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the repository, catalogues new versions, restores deployments and starts the sunset sweep; completes
     * when every version selected at start has settled (READY or UNAVAILABLE).
     */
    public CompletableFuture<Void> start() {
        CompletableFuture<Void> fetched = releases.fetchesMissing()
                ? CompletableFuture.runAsync(releases::fetchMissing, loaders)
                : CompletableFuture.completedFuture(null);
        return fetched.thenCompose(v -> repository.loadAll())
                .thenRunAsync(() -> releases.catalogueExisting(firstStart), loaders)
                .thenCompose(v -> deployments.restore())
                .whenComplete((v, e) -> {
                    background.scheduleWithFixedDelay(this::retireDue, 1, 1, TimeUnit.SECONDS);
                    try {
                        replication.start(); // resumes rollouts where this server holds the lease
                    } catch (RuntimeException r) {
                        log.error("resuming rollouts failed", r);
                    }
                    observations.ifPresent(dev.gantry.core.rollout.ObservationSync::start);
                    background.scheduleWithFixedDelay(() -> {
                        if (replication.holdsLease()) {
                            replication.runFenced(rollouts::tick);
                        }
                    }, ROLLOUT_TICK_MS, ROLLOUT_TICK_MS, TimeUnit.MILLISECONDS);
                    if (e != null) {
                        log.error("restoring deployments failed; models without a restored policy serve their"
                                + " highest version", e);
                    }
                })
                .exceptionally(e -> null);
    }

    private void retireDue() {
        if (!replication.holdsLease()) {
            return; // another server sharing the catalogue runs it
        }
        try {
            replication.runFenced(releases::retireDue);
        } catch (RuntimeException e) {
            log.error("retiring versions past their sunset failed", e);
        }
    }

    /** Timers for periodic work of the server around the core (key file refresh, drain checks). */
    public ScheduledExecutorService timers() {
        return timers;
    }

    public ModelLifecycle lifecycle() {
        return lifecycle;
    }

    public ModelRepositoryManager repository() {
        return repository;
    }

    public DeploymentManager deployments() {
        return deployments;
    }

    public ModelRouter router() {
        return router;
    }

    public Releases releases() {
        return releases;
    }

    /** Progressive rollouts: plans, analysis gates, automatic promotion and rollback. */
    public Rollouts rollouts() {
        return rollouts;
    }

    /** Per-version request, error, latency and agreement counters (what rollout gates analyse). */
    public VersionStats stats() {
        return stats;
    }

    /** How this server follows the others sharing its catalogue, and whether it runs the background work. */
    public dev.gantry.core.replica.Replication replication() {
        return replication;
    }

    /** The API keys of the shared catalogue; empty on the embedded one (one process keeps them in a file). */
    public java.util.Optional<dev.gantry.core.keys.SharedKeys> sharedKeys() {
        return !replication.status().shared() ? java.util.Optional.empty()
                : java.util.Optional.of(dev.gantry.core.keys.SharedKeys.over(catalog));
    }

    public AuditTrail audit() {
        return audit;
    }

    /** A usage meter over the catalogue database, priced and limited as given; the caller flushes and closes it. */
    public dev.gantry.core.usage.UsageMeter usageMeter(dev.gantry.core.usage.Prices prices,
                                                       dev.gantry.core.usage.Quotas quotas, Clock clock,
                                                       MeterRegistry registry) {
        dev.gantry.core.usage.UsageMeter meter = dev.gantry.core.usage.UsageMeter.create(
                dev.gantry.store.catalog.JdbcUsageStore.in(catalog), prices, quotas, clock, registry);
        lifecycle.onReady(meter::prepare);
        return meter;
    }

    /** Stops background work and closes the catalogue; call after the models are unloaded. */
    @Override
    public void close() {
        try {
            journal.close();
        } catch (Exception e) {
            log.warn("closing the crash journal: {}", e.toString());
        }
        observations.ifPresent(dev.gantry.core.rollout.ObservationSync::close);
        background.shutdownNow();
        replication.close();
        loaders.shutdownNow();
        timers.shutdownNow();
        shadows.close();
        artifacts.close();
        try {
            catalog.close();
        } catch (RuntimeException e) {
            log.warn("closing the catalogue: {}", e.toString());
        }
    }
}
