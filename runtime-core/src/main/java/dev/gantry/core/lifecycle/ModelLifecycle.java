package dev.gantry.core.lifecycle;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.NativeHeap;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.isolation.Isolation;
import dev.gantry.core.journal.CrashJournal;
import dev.gantry.core.metrics.InferenceMetrics;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelReadyState;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.core.scheduling.DynamicBatchScheduler;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.core.scheduling.Ticker;
import dev.gantry.store.repository.DynamicBatching;
import dev.gantry.store.repository.InstanceGroup;
import dev.gantry.store.repository.ModelConfig;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import dev.gantry.store.repository.WarmupSample;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Loads and unloads model versions and publishes their states. Readers take the current snapshot without
 * locking; every change publishes a new immutable map.
 */
public final class ModelLifecycle implements AutoCloseable {
    /*
     * Loading a version: LOADING -> (DJL/ORT load, signature, config checks, one warm-up inference, the batch
     * invariance check when dynamic batching is asked for) -> READY, or UNAVAILABLE with the reason. A version
     * becomes routable only when READY, so a request never meets a half-loaded model. Unloading: UNLOADING
     * (no longer routable), its scheduler stops admitting and answers everything it admitted, then the ORT
     * session closes and the version is UNAVAILABLE("unloaded").
     *
     * Native faults. Before an ORT factory (ExecutorFactory.needsSandbox) runs an artifact in this process for
     * the first time, the whole load above runs once in a sandbox process; an artifact that crashed it stays
     * UNAVAILABLE with the signal and the phase, and is never executed here. Every execution of a loaded
     * version is recorded in the crash journal, so that a crash at request time names its version at the next
     * start. Warm-up inputs are guessed from the signature unless the config gives model_warmup samples; a
     * guess that does not fit the model (a Reshape that needs one particular size, say) says nothing about
     * the model, so it costs the version its warm-up and its batching (with a note), not its availability.
     */
    private static final Logger log = LoggerFactory.getLogger(ModelLifecycle.class);
    private static final int INVARIANCE_ROWS = 4;

    private final LifecycleSettings settings;
    private final MeterRegistry registry;
    private final ExecutorFactory factory;
    private final Executor loaderExecutor;
    private final ScheduledExecutorService timers;
    private final Sandbox sandbox;
    private final CrashJournal journal;
    private final Isolation isolation;
    private volatile LoadGuard guard = id -> Optional.empty();
    private final AtomicReference<Map<ModelId, ModelVersionState>> states =
            new AtomicReference<>(Collections.emptyMap());
    private final Map<ModelId, Loaded> loaded = new ConcurrentHashMap<>();
    private volatile ArtifactCheck artifactCheck = ArtifactCheck.NONE;
    private final List<Consumer<ModelId>> readyListeners = new CopyOnWriteArrayList<>();

    private record Loaded(ModelExecutor executor, DynamicBatchScheduler scheduler, InferenceMetrics metrics,
                          ServedConfig config) {
    }

    /** A lifecycle without a sandbox or crash journal (tests, benchmarks, the sandbox process itself). */
    public ModelLifecycle(LifecycleSettings settings, MeterRegistry registry, ExecutorFactory factory,
                          Executor loaderExecutor, ScheduledExecutorService timers) {
        this(settings, registry, factory, loaderExecutor, timers, Sandbox.off(), CrashJournal.none(),
                Isolation.none());
    }

    /**
     * @param sandbox runs each artifact's first execution in a child process when {@code factory} needs it
     * @param journal records every execution of the versions loaded here
     * @param isolation runs versions whose config asks for it in worker processes of their own
     */
    public ModelLifecycle(LifecycleSettings settings, MeterRegistry registry, ExecutorFactory factory,
                          Executor loaderExecutor, ScheduledExecutorService timers, Sandbox sandbox,
                          CrashJournal journal, Isolation isolation) {
        this.settings = settings;
        this.registry = registry;
        this.factory = factory;
        this.loaderExecutor = loaderExecutor;
        this.timers = timers;
        this.sandbox = sandbox;
        this.journal = journal;
        this.isolation = isolation;
    }

    /** Says why a version must not be loaded now, if it must not (a version that crashed the last run). */
    @FunctionalInterface
    public interface LoadGuard {
        Optional<String> refuse(ModelId id);
    }

    /** From now on, loads of a version the guard refuses end UNAVAILABLE with its reason, without executing. */
    public void guardLoads(LoadGuard guard) {
        this.guard = guard;
    }

    /** Sets the check every version passes before it is loaded (none by default). */
    public void setArtifactCheck(ArtifactCheck check) {
        this.artifactCheck = java.util.Objects.requireNonNull(check, "check");
    }

    /**
     * Runs {@code prepare} for each version that becomes READY, before it is published READY (so before a request
     * can be routed to it), and now for each version that is READY already. For per-version state that the
     * request path would otherwise create on a version's first request: created there, it takes a branch the
     * compiled request path never took while other versions served, and the JIT throws that code away on the
     * first request of every new version (JFR showed such traps among those behind the hot swap's latency spike;
     * benchmarks/results/jit-inlining-20261130.txt). {@code prepare} must be idempotent and cheap; what it throws
     * is logged.
     */
    public void onReady(Consumer<ModelId> prepare) {
        readyListeners.add(prepare);
        for (ModelId id : loaded.keySet()) {
            prepare(prepare, id);
        }
    }

    private static void prepare(Consumer<ModelId> prepare, ModelId id) {
        try {
            prepare.accept(id);
        } catch (RuntimeException e) {
            log.warn("{}: preparing its serving state failed; its first request will: {}", id, e.toString());
        }
    }

    /** Every version's state, ordered by model and version. */
    public Map<ModelId, ModelVersionState> snapshot() {
        return states.get();
    }

    public Optional<ModelVersionState> state(ModelId id) {
        return Optional.ofNullable(states.get().get(id));
    }

    /** The versions of one model, ascending. */
    public List<ModelVersionState> versions(String model) {
        List<ModelVersionState> out = new ArrayList<>();
        for (ModelVersionState s : states.get().values()) {
            if (s.id().name().equals(model)) {
                out.add(s);
            }
        }
        return out;
    }

    /** The configuration a loaded (READY or UNLOADING) version is served with. */
    public Optional<ServedConfig> servedConfig(ModelId id) {
        Loaded l = loaded.get(id);
        return l == null ? Optional.empty() : Optional.of(l.config());
    }

    /**
     * Applies the classification extension to a response: the outputs named in {@code classCounts} become their
     * top-k classes, per row when the serving version has a batch dimension, with its outputs' labels.
     */
    public dev.gantry.core.inference.InferenceResponse classify(dev.gantry.core.inference.InferenceResponse response,
                                                                Map<String, Integer> classCounts) {
        if (classCounts.isEmpty()) {
            return response;
        }
        Optional<ServedConfig> served = servedConfig(response.model());
        boolean batched = served.map(c -> c.config().maxBatchSize() > 0).orElse(false);
        return dev.gantry.core.inference.Classification.apply(response, classCounts, batched,
                served.map(ServedConfig::labels).orElse(Map.of()));
    }

    /** A loaded version's counters in the shape of Triton's statistics extension. */
    public Optional<dev.gantry.core.metrics.ModelStatistics> statistics(ModelId id) {
        Loaded l = loaded.get(id);
        return l == null ? Optional.empty() : Optional.of(l.metrics().statistics());
    }

    /** True when no version is LOADING or UNLOADING. */
    public boolean settled() {
        return states.get().values().stream().noneMatch(
                s -> s.state() == ModelReadyState.LOADING || s.state() == ModelReadyState.UNLOADING);
    }

    /** Loads a version in the background; completes with its final state (READY or UNAVAILABLE), never fails. */
    public CompletableFuture<ModelVersionState> load(ModelEntry entry, ModelVersionEntry version) {
        return load(entry, version, phase -> { });
    }

    /**
     * As {@link #load(ModelEntry, ModelVersionEntry)}, telling {@code phases} each phase as it begins: "load",
     * "warm-up", "batch-invariance check" (the sandbox process reports them, so a crash names its phase).
     */
    public CompletableFuture<ModelVersionState> load(ModelEntry entry, ModelVersionEntry version,
                                                     Consumer<String> phases) {
        ModelId id = new ModelId(entry.name(), version.version());
        ModelVersionState current = states.get().get(id);
        if (current != null && (current.state() == ModelReadyState.READY
                || current.state() == ModelReadyState.LOADING)) {
            return CompletableFuture.completedFuture(current);
        }
        publish(ModelVersionState.loading(id));
        return CompletableFuture.supplyAsync(() -> doLoad(entry, version, id, phases), loaderExecutor)
                .exceptionally(e -> {
                    log.error("{}: load failed", id, e);
                    ModelVersionState failed = ModelVersionState.unavailable(id, "load failed: " + e, Optional.empty(),
                            List.of());
                    publish(failed);
                    return failed;
                });
    }

    private ModelVersionState doLoad(ModelEntry entry, ModelVersionEntry version, ModelId id,
                                     Consumer<String> phases) {
        long start = System.nanoTime();
        ModelVersionState result = loadVersion(entry, version, id, phases);
        Timer.builder(MetricNames.MODEL_LOAD_DURATION.meterName())
                .description("Load and warm-up of a model version")
                .tags("model", id.name(), "version", Long.toString(id.version()),
                        "outcome", result.isReady() ? "success" : "error")
                .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        if (result.isReady()) {
            log.info("{} READY in {} ms{}", id, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                    result.notes().isEmpty() ? "" : " (" + String.join("; ", result.notes()) + ")");
        } else {
            log.warn("{} UNAVAILABLE: {}", id, result.reason().orElse("?"));
        }
        publish(result);
        return result;
    }

    private ModelVersionState loadVersion(ModelEntry entry, ModelVersionEntry version, ModelId id,
                                          Consumer<String> phases) {
        List<String> notes = new ArrayList<>(entry.config().warnings());
        Optional<String> configFailure = entry.configFailure();
        if (configFailure.isPresent()) {
            return ModelVersionState.unavailable(id, configFailure.get(), Optional.empty(), notes);
        }
        Optional<String> refused = guard.refuse(id);
        if (refused.isPresent()) {
            return ModelVersionState.unavailable(id, refused.get(), Optional.empty(), notes);
        }
        // The digest first: an artifact changed on disk is run nowhere, not even in the sandbox.
        Optional<String> changed = artifactCheck.refusal(id, version.modelFile());
        if (changed.isPresent()) {
            return ModelVersionState.unavailable(id, changed.get(), Optional.empty(), notes);
        }
        if (factory.needsSandbox()) {
            Optional<String> crashed = sandbox.firstRun(entry, version);
            if (crashed.isPresent()) {
                return ModelVersionState.unavailable(id, crashed.get(), Optional.empty(), notes);
            }
        }
        ModelConfig config = entry.config();
        ModelExecutor executor;
        try {
            phases.accept("load");
            executor = factory.load(version.directory(), config.defaultModelFilename(), executionSettings(config));
            if (config.gantry().processIsolation()) {
                if (isolation.available() && factory.needsSandbox()) {
                    ModelSignature read = executor.signature();
                    executor.close();
                    executor = isolation.start(id, version.directory(), config.defaultModelFilename(),
                            executionSettings(config), read);
                    notes.add("executes in a worker process of its own (gantry.isolation: process)");
                } else {
                    notes.add("executes in the server's process: process isolation is not available here");
                }
            }
            executor = journal.watch(id, executor);
        } catch (GantryException e) {
            return ModelVersionState.unavailable(id, e.getMessage(), Optional.empty(), notes);
        } catch (RuntimeException e) {
            return ModelVersionState.unavailable(id, "load failed: " + e, Optional.empty(), notes);
        }
        try {
            ModelSignature signature = executor.signature();
            Optional<String> problem = checkConfigAgainst(config, signature);
            if (problem.isPresent()) {
                executor.close();
                return ModelVersionState.unavailable(id, problem.get(), Optional.of(signature), notes);
            }
            Map<String, List<String>> labels = Labels.read(entry.directory(), config, signature);
            Planned planned = plan(entry, config, signature, executor, notes, phases);
            BatchPolicy policy = planned.policy();
            InferenceMetrics metrics = InferenceMetrics.register(registry, id);
            DynamicBatchScheduler scheduler = DynamicBatchScheduler.start(id, executor, policy, metrics, timers,
                    Ticker.system());
            loaded.put(id, new Loaded(executor, scheduler, metrics, new ServedConfig(planned.config(),
                    planned.autocompleted(), labels)));
            for (Consumer<ModelId> prepare : readyListeners) {
                prepare(prepare, id);
            }
            return new ModelVersionState(id, ModelReadyState.READY, Optional.empty(), Optional.of(signature),
                    Optional.of(policy), Optional.of(scheduler), notes);
        } catch (GantryException e) {
            executor.close();
            return ModelVersionState.unavailable(id, e.getMessage(), Optional.empty(), notes);
        } catch (RuntimeException e) {
            executor.close();
            return ModelVersionState.unavailable(id, "load failed: " + e, Optional.empty(), notes);
        }
    }

    /** The configuration a version is served with, what auto-completion filled in, and its batch policy. */
    private record Planned(ModelConfig config, List<String> autocompleted, BatchPolicy policy) {
    }

    /**
     * Auto-completes a model without a configuration file (ConfigCompletion) and decides the batch policy. The
     * completion is kept only when batching its rows passes the batch-invariance check (or batching is off
     * server-wide: then only max_batch_size is filled); otherwise the configuration stays as read and a note
     * says why. {@code notes} receives the notes of the outcome kept.
     */
    private Planned plan(ModelEntry entry, ModelConfig config, ModelSignature signature, ModelExecutor executor,
                         List<String> notes, Consumer<String> phases) {
        ConfigCompletion.Proposal proposal = ConfigCompletion.propose(config, signature, settings.strictModelConfig());
        if (proposal.filled().isEmpty()) {
            return new Planned(config, List.of(), batchPolicy(entry, config, signature, executor, notes, phases));
        }
        List<String> trial = new ArrayList<>(notes);
        BatchPolicy policy = null;
        String refused;
        try {
            policy = batchPolicy(entry, proposal.config(), signature, executor, trial, phases);
            refused = policy.batchAcrossRequests() || !settings.batchingEnabled() ? null
                    : trial.get(trial.size() - 1).replaceFirst("^not batched across requests: ", "");
        } catch (RuntimeException e) {
            refused = "batching rows along dimension 0 failed: " + e.getMessage();
        }
        if (refused != null) {
            notes.add("configuration not auto-completed: " + refused);
            return new Planned(config, List.of(), batchPolicy(entry, config, signature, executor, notes, phases));
        }
        notes.clear();
        notes.addAll(trial);
        ModelConfig completed = proposal.config();
        List<String> filled = proposal.filled();
        if (!policy.batchAcrossRequests()) {
            completed = completed.withBatching(completed.maxBatchSize(), Optional.empty());
            filled = List.of(ConfigCompletion.MAX_BATCH_SIZE);
        }
        notes.add("configuration auto-completed from the model: " + String.join(", ", filled) + " (max_batch_size "
                + completed.maxBatchSize() + "; --strict-model-config turns this off)");
        return new Planned(completed, filled, policy);
    }

    private ExecutionSettings executionSettings(ModelConfig config) {
        ExecutionSettings base = settings.execution();
        var g = config.gantry();
        ExecutionSettings s = new ExecutionSettings(g.intraOpThreads().orElse(base.intraOpThreads()),
                g.interOpThreads().orElse(base.interOpThreads()), g.allowSpinning().orElse(base.allowSpinning()),
                base.gpuDevice(), base.memory());
        for (InstanceGroup group : config.instanceGroups()) {
            if (group.kind() == InstanceGroup.Kind.KIND_GPU) {
                return s.onGpu(group.gpus().isEmpty() ? 0 : group.gpus().get(0));
            }
        }
        return s;
    }

    private static Optional<String> checkConfigAgainst(ModelConfig config, ModelSignature signature) {
        if (config.maxBatchSize() > 0) {
            for (TensorSpec in : signature.inputs()) {
                if (in.rank() == 0 || in.dim(0) != -1) {
                    return Optional.of("config max_batch_size is " + config.maxBatchSize() + " but input '"
                            + in.name() + "' has shape " + java.util.Arrays.toString(in.shape())
                            + ", without a dynamic first (batch) dimension; set max_batch_size to 0");
                }
            }
        }
        return Optional.empty();
    }

    private BatchPolicy batchPolicy(ModelEntry entry, ModelConfig config, ModelSignature signature,
                                    ModelExecutor executor, List<String> notes, Consumer<String> phases) {
        DynamicBatching db = config.dynamicBatching().orElse(DynamicBatching.defaults());
        int queueSize = db.maxQueueSize() > 0 ? db.maxQueueSize() : settings.defaultMaxQueueSize();
        int instances = config.instanceGroups().stream().mapToInt(InstanceGroup::count).sum();
        boolean samples = !config.warmup().isEmpty();
        boolean supported = samples || signature.inputs().stream().allMatch(TensorSpec::isSupported);
        Optional<String> guessMisfit = Optional.empty();
        if (!supported) {
            notes.add("not warmed up: " + signature.inputs().stream().filter(t -> !t.isSupported())
                    .map(t -> t.unsupportedReason().orElseThrow()).findFirst().orElseThrow());
        } else if (samples) {
            phases.accept("warm-up");
            for (WarmupSample sample : config.warmup()) {
                try {
                    executor.run(WarmupInputs.of(entry.directory(), config, sample, sample.batchSize(), 1), Set.of());
                } catch (GantryException e) {
                    throw new GantryException(e.code(), "model_warmup sample '" + sample.name() + "' failed: "
                            + e.getMessage());
                }
            }
        } else {
            phases.accept("warm-up");
            try {
                BatchInvariance.warmUp(executor, signature, 1);
            } catch (RuntimeException e) {
                guessMisfit = Optional.of(e.getMessage());
                notes.add("not warmed up: the inputs Gantry guessed from the signature do not fit this model ("
                        + e.getMessage() + "); give model_warmup samples in the config to warm it up");
            }
        }
        boolean batching = config.dynamicBatching().isPresent() && config.maxBatchSize() > 1 && supported;
        if (batching && !settings.batchingEnabled()) {
            notes.add("dynamic batching is off server-wide");
            batching = false;
        }
        if (batching && !signature.firstDimensionIsDynamic()) {
            notes.add("not batched across requests: not every output has a dynamic first dimension");
            batching = false;
        }
        if (batching && guessMisfit.isPresent()) {
            notes.add("not batched across requests: the batch-invariance check could not run on inputs guessed"
                    + " from the signature; give model_warmup samples in the config to check it");
            batching = false;
        }
        if (batching) {
            phases.accept("batch-invariance check");
            int rows = Math.min(config.maxBatchSize(), INVARIANCE_ROWS);
            Optional<String> variance;
            try {
                variance = samples
                        ? BatchInvariance.compare(executor, WarmupInputs.of(entry.directory(), config,
                                config.warmup().get(0), rows, 7), rows)
                        : BatchInvariance.check(executor, signature, rows, 7);
            } catch (RuntimeException e) {
                variance = Optional.empty();
                notes.add("not batched across requests: the batch-invariance check could not run on "
                        + (samples ? "model_warmup sample '" + config.warmup().get(0).name() + "'"
                                : "inputs guessed from the signature") + " (" + e.getMessage() + ")");
                batching = false;
            }
            if (variance.isPresent()) {
                if (config.gantry().allowNonInvariantBatching()) {
                    notes.add("batched although not batch-invariant (gantry.allow_non_invariant_batching): "
                            + variance.get());
                } else {
                    notes.add("not batched across requests: not batch-invariant, " + variance.get()
                            + "; set gantry.allow_non_invariant_batching to batch anyway");
                    batching = false;
                }
            }
        }
        long requestTimeoutMicros = settings.requestTimeout().toNanos() / 1000;
        BatchPolicy policy = new BatchPolicy(config.maxBatchSize(), batching, db.maxQueueDelayMicros(),
                db.preferredBatchSizes(), queueSize,
                db.defaultTimeoutMicros() > 0 ? db.defaultTimeoutMicros() : requestTimeoutMicros,
                Math.max(1, instances), requestTimeoutMicros, config.gantry().maxBatchElements().orElse(0));
        return policy;
    }

    /**
     * Unloads a version: stops routing to it, lets it answer everything it admitted (up to the drain
     * timeout), then frees it. Completes when it is gone.
     */
    public CompletableFuture<Void> unload(ModelId id) {
        ModelVersionState current = states.get().get(id);
        Loaded l = loaded.remove(id);
        if (current == null || l == null) {
            return CompletableFuture.completedFuture(null);
        }
        publish(current.withState(ModelReadyState.UNLOADING));
        return l.scheduler().stop(settings.drainTimeout()).whenComplete((v, e) -> {
            l.executor().close();
            l.metrics().remove();
            publish(ModelVersionState.unavailable(id, "unloaded", current.signature(), current.notes()));
            log.info("{} unloaded; {}", id, NativeHeap.trim());
        });
    }

    /** Unloads every version, draining each; completes when all are gone. */
    public CompletableFuture<Void> unloadAll() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ModelId id : List.copyOf(loaded.keySet())) {
            all.add(unload(id));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    private void publish(ModelVersionState s) {
        states.updateAndGet(m -> {
            Map<ModelId, ModelVersionState> next = new TreeMap<>(m);
            next.put(s.id(), s);
            return Collections.unmodifiableMap(next);
        });
    }

    @Override
    public void close() {
        unloadAll().join();
    }
}
