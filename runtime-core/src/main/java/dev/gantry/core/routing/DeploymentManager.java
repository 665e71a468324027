package dev.gantry.core.routing;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.DeploymentStore;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.TrafficPolicy;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Owns every model's {@link Deployment} and keeps the loaded versions in line with them: what a policy routes
 * must be READY before it is applied, what leaves all routes stays loaded as warm standby or is drained and
 * unloaded in the background.
 */
public final class DeploymentManager {
    /*
     * Changes to one model are serialized on that model's Deployment; the check that every routed version is
     * READY happens under the same lock as the apply, and an unload marks the version UNLOADING before the
     * lock is released, so a policy can never be applied to a version that is on its way out.
     *
     * Order during a swap: the new snapshot is published first, then the versions that left start draining.
     * A request that resolved the old snapshot just before may meet a scheduler that refuses; ModelRouter
     * re-resolves it against the new snapshot.
     */
    private static final Logger log = LoggerFactory.getLogger(DeploymentManager.class);

    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final DeploymentStore store;
    private final DeploymentSettings settings;
    private final Clock clock;
    private final MeterRegistry registry;
    private final TrafficGate gate;
    private final Optional<AuditTrail> audit;
    private final Map<String, Deployment> deployments = new ConcurrentHashMap<>();
    private final Set<CompletableFuture<Void>> draining = ConcurrentHashMap.newKeySet();
    /** Set by replication on a shared catalogue: see {@link #awaitCatalogue()}. */
    private volatile Runnable catalogueCatchUp = () -> { };

    private DeploymentManager(ModelRepositoryManager repository, DeploymentStore store, DeploymentSettings settings,
                              Clock clock, MeterRegistry registry, TrafficGate gate, Optional<AuditTrail> audit) {
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.registry = registry;
        this.gate = gate;
        this.audit = audit;
    }

    /**
     * A manager without release governance or audit trail: every READY version may take any traffic. For tests
     * and benchmarks of routing; a server uses the gated, audited manager.
     */
    public static DeploymentManager create(ModelRepositoryManager repository, DeploymentStore store,
                                           DeploymentSettings settings, Clock clock, MeterRegistry registry) {
        return new DeploymentManager(repository, store, settings, clock, registry, TrafficGate.allowAll(),
                Optional.empty());
    }

    /**
     * A manager whose policy changes and rollbacks must pass {@code gate} (a version's release stage decides
     * which traffic it may take), and whose first policy for a model goes to the highest READY version the gate
     * lets take primary traffic. Loads and unloads are written to {@code audit} before they start; policy
     * changes are audited by {@code store} in the transaction that saves them.
     */
    public static DeploymentManager create(ModelRepositoryManager repository, DeploymentStore store,
                                           DeploymentSettings settings, Clock clock, MeterRegistry registry,
                                           TrafficGate gate, AuditTrail audit) {
        return new DeploymentManager(repository, store, settings, clock, registry,
                Objects.requireNonNull(gate, "gate"), Optional.of(audit));
    }

    /**
     * Brings back every persisted deployment: loads the versions its current policy routes and its standby
     * versions, then publishes the same revision. Models without a record get revision 1, all traffic to
     * their highest READY version. Call once, after {@link ModelRepositoryManager#loadAll()} has completed;
     * the server is ready when this completes. A version that cannot be loaded is logged; its model's
     * requests go to its other READY routes.
     *
     * @throws dev.gantry.store.deployment.DeploymentStoreException (through the future) when a record is corrupt
     */
    public CompletableFuture<Void> restore() {
        List<DeploymentRecord> records;
        try {
            records = store.loadAll();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (DeploymentRecord record : records) {
            all.add(loadServed(record, false, "").thenRun(() -> {
                publish(Deployment.restore(record, store, clock, settings));
                log.info("model '{}': restored revision {} {}", record.model(), record.currentRevision(),
                        record.current().policy());
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenRun(() -> {
            for (String model : repository.models().keySet()) {
                ensureDeployment(model);
            }
        });
    }

    /**
     * Brings {@code model}'s deployment up to the latest revision in the catalogue, which another server sharing
     * it saved: loads the versions that revision routes and keeps as standby (from the models directory), then
     * publishes it as it is (that server's gate and readiness checks passed) and unloads what left all routes and
     * standby here. Nothing happens when this server already has that revision. A version that cannot be loaded
     * is logged; the model's requests go to its other READY routes, as after {@link #restore()}.
     *
     * @return completes when the revision is in force here (or was not newer)
     */
    public CompletableFuture<Void> follow(String model) {
        Optional<DeploymentRecord> stored = store.load(model);
        if (stored.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        DeploymentRecord record = stored.get();
        Deployment known = deployments.get(model);
        if (known != null && known.snapshot().revision() >= record.currentRevision()) {
            return CompletableFuture.completedFuture(null);
        }
        return loadServed(record, true, " (from another server)").thenRun(() -> adopt(record));
    }

    /**
     * Loads the versions {@code record}'s current revision serves and keeps as standby ({@code onlyMissing}: those
     * not READY yet). A version that cannot be loaded is logged, not failed: the model's other routes serve.
     */
    private CompletableFuture<Void> loadServed(DeploymentRecord record, boolean onlyMissing, String origin) {
        String model = record.model();
        Set<Long> wanted = new LinkedHashSet<>(record.current().policy().servedVersions());
        wanted.addAll(record.standby());
        List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
        for (long v : wanted) {
            if (onlyMissing && lifecycle.state(new ModelId(model, v)).map(ModelVersionState::isReady).orElse(false)) {
                continue;
            }
            loads.add(load(model, v).exceptionally(e -> {
                log.error("model '{}' revision {}{}: cannot load version {}: {}", model, record.currentRevision(),
                        origin, v, e.getMessage());
                return null;
            }));
        }
        return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
    }

    private void adopt(DeploymentRecord record) {
        String model = record.model();
        Deployment d;
        synchronized (this) {
            d = deployments.get(model);
            if (d == null) {
                publish(Deployment.restore(record, store, clock, settings));
                log.info("model '{}': revision {} from the catalogue {}", model, record.currentRevision(),
                        record.current().policy());
                return;
            }
        }
        synchronized (d) {
            d.adopt(record).ifPresent(t -> {
                log.info("model '{}': revision {} from the catalogue (by {}): {}", model, t.revision().revision(),
                        t.revision().actor(), t.revision().policy());
                drainUnrouted(model, t);
            });
        }
    }

    public Optional<Deployment> deployment(String model) {
        return Optional.ofNullable(deployments.get(model));
    }

    public Optional<DeploymentSnapshot> snapshot(String model) {
        Deployment d = deployments.get(model);
        return d == null ? Optional.empty() : Optional.of(d.snapshot());
    }

    /**
     * Makes {@link #awaitCatalogue()} run {@code catchUp}: replication on a shared catalogue sets it to wait until
     * this server has applied every change committed before the call.
     */
    public void catchUpWith(Runnable catchUp) {
        this.catalogueCatchUp = java.util.Objects.requireNonNull(catchUp, "catchUp");
    }

    /**
     * Call before a change a client asks for (a traffic policy, a rollback, a rollout): on a catalogue shared with
     * other servers, waits briefly until this server has applied what they committed before, so the change is
     * made from the revision and release stages the client was last told of, possibly by another server (its
     * {@code expected_revision} is current here too; a version just suspended elsewhere is refused here).
     * Returns at once on an embedded catalogue.
     */
    public void awaitCatalogue() {
        catalogueCatchUp.run();
    }

    /** Every deployment, by model. */
    public Map<String, Deployment> deployments() {
        return Map.copyOf(deployments);
    }

    /**
     * Applies {@code policy} to {@code model} as a new revision, then keeps or unloads the versions that left.
     *
     * @throws GantryException NOT_FOUND for an unknown model or a routed version not on disk;
     *     FAILED_PRECONDITION when the traffic gate refuses a routed version, a routed version is not READY or
     *     {@code expectedRevision} is not current
     */
    public PolicyRevision applyPolicy(String model, TrafficPolicy policy, OptionalLong expectedRevision, Actor actor,
                                      String reason) {
        Deployment d = requireDeployment(model);
        synchronized (d) {
            gate.check(model, policy, clock.instant());
            checkReady(model, policy);
            Deployment.Transition t = d.change(policy, expectedRevision, actor, reason, Optional.empty());
            log.info("model '{}': revision {} by {}: {}", model, t.revision().revision(), actor.name(), policy);
            drainUnrouted(model, t);
            return t.revision();
        }
    }

    /**
     * Rolls {@code model} back to the previous revision's policy (or {@code toRevision}'s) as a new revision.
     * Versions it routes that are loaded (warm standby) make it immediate; others are loaded first.
     *
     * @throws GantryException (through the future) NOT_FOUND, or FAILED_PRECONDITION when the traffic gate
     *     refuses a version the target routes (checked before loading and again before applying), a version
     *     cannot be loaded or the policy changed meanwhile
     */
    public CompletableFuture<RollbackResult> rollback(String model, OptionalLong toRevision, Actor actor) {
        Deployment d;
        PolicyRevision target;
        long from;
        try {
            d = requireDeployment(model);
            synchronized (d) {
                from = d.snapshot().revision();
                target = d.rollbackTarget(toRevision);
            }
            gate.check(model, target.policy(), clock.instant());
        } catch (GantryException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
        for (long v : target.policy().servedVersions()) {
            if (!lifecycle.state(new ModelId(model, v)).map(ModelVersionState::isReady).orElse(false)) {
                loads.add(load(model, v));
            }
        }
        return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new)).thenApply(x -> {
            synchronized (d) {
                gate.check(model, target.policy(), clock.instant());
                checkReady(model, target.policy());
                Deployment.Transition t = d.change(target.policy(), OptionalLong.of(from), actor,
                        "rollback to revision " + target.revision(), Optional.of(from));
                log.info("model '{}': revision {} by {}: rollback from {} to {}", model, t.revision().revision(),
                        actor.name(), from, target.revision());
                drainUnrouted(model, t);
                return new RollbackResult(from, target.revision(), t.revision().revision(), target.policy());
            }
        });
    }

    /**
     * Loads a version in the background (reading the model directory again, so new versions are found), audited
     * first. The first READY version of a model without a deployment gets all its traffic.
     *
     * @throws GantryException (through the future) NOT_FOUND when the model or version is not on disk
     */
    public CompletableFuture<ModelVersionState> loadVersion(String model, long version, Actor actor) {
        try {
            audit(actor, "version.load", model + "/" + version, state(model, version), "load requested");
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return load(model, version).thenApply(s -> {
            if (s.isReady()) {
                ensureDeployment(model);
            }
            return s;
        });
    }

    /**
     * Drains and unloads a version that takes no traffic (dropping it from standby).
     *
     * @throws GantryException (through the future) FAILED_PRECONDITION while the current policy routes it
     */
    public CompletableFuture<Void> unloadVersion(String model, long version, Actor actor) {
        Deployment d = deployments.get(model);
        if (d == null) {
            return audited(actor, "version.unload", model + "/" + version, state(model, version), "unload requested",
                    () -> drain(new ModelId(model, version)));
        }
        synchronized (d) {
            DeploymentSnapshot s = d.snapshot();
            if (s.policy().routes(version)) {
                OptionalInt weight = s.policy().weightOf(version);
                String how = weight.isPresent() ? "weight " + weight.getAsInt() : "shadow " + s.policy().shadow()
                        .stream().filter(r -> r.version() == version).findFirst().orElseThrow().percent() + "%";
                return CompletableFuture.failedFuture(new GantryException(ErrorCode.FAILED_PRECONDITION, "version "
                        + version + " still takes traffic (" + how + " in revision " + s.revision() + ")"));
            }
            if (s.policy().fallback().equals(OptionalLong.of(version))) {
                return CompletableFuture.failedFuture(new GantryException(ErrorCode.FAILED_PRECONDITION, "version "
                        + version + " is the named fallback of revision " + s.revision() + "; apply a policy that"
                        + " names another fallback (or none) before unloading it"));
            }
            return audited(actor, "version.unload", model + "/" + version, state(model, version), "unload requested",
                    () -> {
                d.removeStandby(version, actor);
                return drain(new ModelId(model, version));
            });
        }
    }

    /**
     * Triton's repository load: (re)loads the versions the model's version policy selects and the versions its
     * traffic policy routes, audited first; completes with their final states.
     *
     * @throws GantryException NOT_FOUND when the model is not in the repository
     */
    public CompletableFuture<List<ModelVersionState>> loadModel(String model, Actor actor) {
        return loadModel(model, actor, Optional.empty());
    }

    /**
     * As {@link #loadModel(String, Actor)}, with Triton's {@code config} override: the versions are (re)loaded with
     * {@code configJson} (a whole model configuration, JSON) instead of the repository's, until the next load
     * without one. Versions already loaded drain and load again under the override.
     *
     * @throws GantryException (through the future) INVALID_ARG naming what is wrong with the override
     */
    public CompletableFuture<List<ModelVersionState>> loadModel(String model, Actor actor,
                                                                Optional<String> configJson) {
        Optional<ModelEntry> found = repository.refresh(model);
        if (found.isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("no model '" + model
                    + "' in the repository"));
        }
        ModelEntry entry = found.get();
        if (configJson.isPresent()) {
            try {
                dev.gantry.store.repository.ModelConfig override =
                        dev.gantry.store.repository.ModelConfigParser.parseJson(configJson.get(), model);
                entry = new ModelEntry(entry.name(), entry.directory(), override, entry.versions(),
                        entry.problems().stream().filter(p -> !p.startsWith(ModelEntry.CONFIG_FAILED)).toList());
            } catch (dev.gantry.store.repository.ModelConfigException e) {
                return CompletableFuture.failedFuture(GantryException.invalid("the 'config' override is not a valid"
                        + " model configuration: " + e.getMessage()));
            }
        }
        ModelEntry loadWith = entry;
        java.util.TreeSet<Long> wanted = new java.util.TreeSet<>();
        entry.versionsToLoad().forEach(v -> wanted.add(v.version()));
        snapshot(model).ifPresent(s -> wanted.addAll(s.policy().servedVersions()));
        return audited(actor, "model.load", model, "", "versions " + wanted
                + (configJson.isPresent() ? " with a config override" : ""), () -> {
            List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
            for (long v : wanted) {
                CompletableFuture<ModelVersionState> loaded = configJson.isEmpty() ? load(model, v)
                        : reload(loadWith, v);
                loads.add(loaded.thenApply(s -> {
                    if (s.isReady()) {
                        ensureDeployment(model);
                    }
                    return s;
                }));
            }
            return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new))
                    .thenApply(x -> loads.stream().map(CompletableFuture::join).toList());
        });
    }

    /**
     * Triton's repository unload: takes the whole model out of service (every version drains and unloads), audited
     * first; its traffic policy is kept for the next load.
     *
     * @throws GantryException NOT_FOUND for an unknown model
     */
    public CompletableFuture<Void> unloadModel(String model, Actor actor) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("unknown model '" + model + "'"));
        }
        return audited(actor, "model.unload", model, "", "every version unloaded", () -> CompletableFuture.allOf(
                versions.stream().map(v -> lifecycle.unload(v.id())).toArray(CompletableFuture[]::new)));
    }

    /**
     * Loads a newly installed version to validate it (load, signature, warm-up and smoke inference) without
     * giving it a route; completes with its final state. The release workflow audits the outcome.
     */
    public CompletableFuture<ModelVersionState> validate(String model, long version) {
        return load(model, version);
    }

    private String state(String model, long version) {
        return lifecycle.state(new ModelId(model, version)).map(s -> s.state().name()).orElse("not loaded");
    }

    private void audit(Actor actor, String action, String target, String before, String after) {
        audit.ifPresent(a -> a.record(actor, new AuditTrail.Entry(action, target, before, after)));
    }

    /** Writes the entry, then starts {@code work}; an entry that cannot be written fails before anything changes. */
    private <T> CompletableFuture<T> audited(Actor actor, String action, String target, String before, String after,
                                             java.util.function.Supplier<CompletableFuture<T>> work) {
        try {
            audit(actor, action, target, before, after);
            return work.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Drains and unloads the version when it is loaded, then loads it from {@code entry}. */
    private CompletableFuture<ModelVersionState> reload(ModelEntry entry, long version) {
        Optional<ModelVersionEntry> v = entry.versions().stream().filter(e -> e.version() == version).findFirst();
        if (v.isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("model '" + entry.name()
                    + "' has no version " + version + " on disk"));
        }
        ModelId id = new ModelId(entry.name(), version);
        CompletableFuture<Void> gone = lifecycle.state(id).isPresent() ? drain(id) : CompletableFuture.completedFuture(null);
        return gone.thenCompose(x -> lifecycle.load(entry, v.get()));
    }

    /** Completes when every unload started so far has finished draining. */
    public CompletableFuture<Void> drained() {
        return CompletableFuture.allOf(draining.toArray(CompletableFuture[]::new));
    }

    /** Loads a version from disk, fetching it first (from a shared artifact store) when it is not there. */
    private CompletableFuture<ModelVersionState> load(String model, long version) {
        Optional<ModelEntry> entry = repository.refresh(model);
        Optional<ModelVersionEntry> onDisk = entry.flatMap(e -> e.versions().stream()
                .filter(v -> v.version() == version).findFirst());
        if (onDisk.isPresent()) {
            return lifecycle.load(entry.get(), onDisk.get());
        }
        return repository.fetchMissing(model, version).thenCompose(fetched -> loadFromDisk(model, version));
    }

    private CompletableFuture<ModelVersionState> loadFromDisk(String model, long version) {
        Optional<ModelEntry> entry = repository.refresh(model);
        if (entry.isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("unknown model '" + model + "'"));
        }
        Optional<ModelVersionEntry> v = entry.get().versions().stream().filter(e -> e.version() == version)
                .findFirst();
        if (v.isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("model '" + model + "' has no version "
                    + version + " on disk; its versions are " + entry.get().versions().stream()
                    .map(ModelVersionEntry::version).toList()));
        }
        return lifecycle.load(entry.get(), v.get());
    }

    private Deployment requireDeployment(String model) {
        Deployment d = deployments.get(model);
        if (d != null) {
            return d;
        }
        if (repository.model(model).isEmpty() && repository.refresh(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
        return ensureDeployment(model).orElseThrow(() -> new GantryException(ErrorCode.FAILED_PRECONDITION,
                "model '" + model + "' has no READY version yet; load one first"));
    }

    /** The model's deployment, created at its highest READY version when it has none and one is READY. */
    private synchronized Optional<Deployment> ensureDeployment(String model) {
        Deployment existing = deployments.get(model);
        if (existing != null) {
            return Optional.of(existing);
        }
        List<ModelVersionState> versions = lifecycle.versions(model);
        for (int i = versions.size() - 1; i >= 0; i--) {
            if (versions.get(i).isReady() && admitted(model, versions.get(i).id().version())) {
                long v = versions.get(i).id().version();
                Deployment d = Deployment.create(model, TrafficPolicy.single(v), Actor.SYSTEM,
                        "initial policy: highest loaded version", store, clock, settings);
                log.info("model '{}': revision 1, all traffic to version {}", model, v);
                return Optional.of(publish(d));
            }
        }
        return Optional.empty();
    }

    private boolean admitted(String model, long version) {
        try {
            gate.check(model, TrafficPolicy.single(version), clock.instant());
            return true;
        } catch (GantryException e) {
            log.info("model '{}': version {} is READY but not the first policy's target: {}", model, version,
                    e.getMessage());
            return false;
        }
    }

    private Deployment publish(Deployment d) {
        deployments.put(d.model(), d);
        Gauge.builder(MetricNames.POLICY_REVISION.meterName(), d, x -> x.snapshot().revision())
                .description("The traffic policy revision in force").tag("model", d.model())
                .strongReference(true).register(registry);
        return d;
    }

    private void checkReady(String model, TrafficPolicy policy) {
        for (long v : policy.servedVersions()) {
            String use = policy.routes(v) ? "routed to" : "named the fallback";
            Optional<ModelVersionState> s = lifecycle.state(new ModelId(model, v));
            if (s.isEmpty()) {
                boolean onDisk = repository.refresh(model).map(e -> e.versions().stream()
                        .anyMatch(x -> x.version() == v)).orElse(false);
                if (!onDisk) {
                    throw GantryException.notFound("model '" + model + "' has no version " + v + " on disk");
                }
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + v + " of model '" + model
                        + "' is not loaded; load it and wait until it is READY before it is " + use);
            }
            if (!s.get().isReady()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + v + " of model '" + model
                        + "' is " + s.get().state() + s.get().reason().map(r -> " (" + r + ")").orElse("")
                        + "; it must be READY before it is " + use);
            }
        }
    }

    /** Unloads what was routed or standby before the change and is neither now. Called holding the lock. */
    private void drainUnrouted(String model, Deployment.Transition t) {
        Set<Long> keep = new LinkedHashSet<>(t.after().policy().servedVersions());
        keep.addAll(t.after().standby());
        Set<Long> had = new LinkedHashSet<>(t.before().policy().servedVersions());
        had.addAll(t.before().standby());
        had.removeAll(keep);
        for (long v : had) {
            log.info("model '{}': version {} left all routes and standby; draining", model, v);
            drain(new ModelId(model, v));
        }
    }

    private CompletableFuture<Void> drain(ModelId id) {
        long start = System.nanoTime();
        CompletableFuture<Void> f = lifecycle.unload(id);
        draining.add(f);
        f.whenComplete((v, e) -> {
            draining.remove(f);
            Timer.builder(MetricNames.DRAIN_DURATION.meterName())
                    .description("From unload to the last admitted request answered and the version freed")
                    .tags("model", id.name(), "version", Long.toString(id.version())).register(registry)
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        });
        return f;
    }
}
