package dev.gantry.core.routing;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.governance.PinnedAccess;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.InputValidator;
import dev.gantry.core.inference.RequestContext;
import dev.gantry.core.tracing.TraceSpan;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelReadyState;
import dev.gantry.core.repository.ModelRepositoryManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import dev.gantry.core.metrics.VersionStats;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Picks the version that serves a request and hands the request to its scheduler. Unversioned requests follow
 * the model's traffic policy (sticky per routing key when one is given); without a deployment they go to the
 * highest READY version.
 */
public final class ModelRouter {
    private static final Logger log = LoggerFactory.getLogger(ModelRouter.class);
    /*
     * Zero drops during a swap. A request resolves a version from the snapshot it read, then enqueues. Between
     * the two a policy change may publish a new snapshot and start draining the old version, whose scheduler
     * then refuses at admission (the future is already failed, UNAVAILABLE, when enqueue returns). Such a
     * refusal never ran the request, so an unversioned request resolves again against the current snapshot
     * and retries, up to MAX_ATTEMPTS. A picked version that is not READY (UNLOADING already) is replaced by
     * another READY route of the same snapshot. Pinned requests are not retried: they asked for that version.
     */
    static final int MAX_ATTEMPTS = 3;

    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final Optional<DeploymentManager> deployments;
    private final Optional<ShadowRunner> shadows;
    private final MeterRegistry registry;
    private final RandomSource random;
    private final TrafficGate gate;
    private final Consumer<ModelId> beforeAdmission;
    /* routing.requests per version, one slot per RouteKind: resolved once, no key built per request. */
    private final Map<ModelId, java.util.concurrent.atomic.AtomicReferenceArray<Counter>> routeCounters =
            new ConcurrentHashMap<>();
    private final VersionStats stats;
    private final FallbackSettings fallback;
    private final RetryBudget budget;
    private final Map<ModelId, CircuitBreaker> breakers = new ConcurrentHashMap<>();
    private static final java.util.function.LongSupplier MILLIS = () -> System.nanoTime() / 1_000_000;

    /** The version a request was routed to and how it was chosen. */
    public record Routed(ModelVersionState target, RouteKind kind, Optional<DeploymentSnapshot> snapshot) {
    }

    private ModelRouter(ModelRepositoryManager repository, Optional<DeploymentManager> deployments,
                        Optional<ShadowRunner> shadows, MeterRegistry registry, RandomSource random,
                        Consumer<ModelId> beforeAdmission) {
        this(repository, deployments, shadows, registry, random, beforeAdmission, TrafficGate.allowAll(),
                new VersionStats(), FallbackSettings.OFF);
    }

    private ModelRouter(ModelRepositoryManager repository, Optional<DeploymentManager> deployments,
                        Optional<ShadowRunner> shadows, MeterRegistry registry, RandomSource random,
                        Consumer<ModelId> beforeAdmission, TrafficGate gate, VersionStats stats,
                        FallbackSettings fallback) {
        this.stats = stats;
        this.fallback = fallback;
        this.budget = new RetryBudget(fallback, MILLIS);
        this.gate = gate;
        this.beforeAdmission = beforeAdmission;
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.deployments = deployments;
        this.shadows = shadows;
        this.registry = registry;
        this.random = random;
    }

    /** A router that follows {@code deployments}' policies and sends shadow copies through {@code shadows}. */
    public static ModelRouter create(ModelRepositoryManager repository, DeploymentManager deployments,
                                     ShadowRunner shadows, MeterRegistry registry, RandomSource random) {
        return new ModelRouter(repository, Optional.of(deployments), Optional.of(shadows), registry, random,
                id -> { });
    }

    /**
     * As {@link #create}, and every version a request reaches must be allowed by {@code gate}: unversioned
     * requests skip versions whose release stage takes no primary traffic (a suspended or retired version
     * leaves routing at once, whatever the policy says), pinned ones are refused, shadows are filtered.
     */
    public static ModelRouter create(ModelRepositoryManager repository, DeploymentManager deployments,
                                     ShadowRunner shadows, MeterRegistry registry, RandomSource random,
                                     TrafficGate gate) {
        return new ModelRouter(repository, Optional.of(deployments), Optional.of(shadows), registry, random,
                id -> { }, gate, new VersionStats(), FallbackSettings.OFF);
    }

    /**
     * As {@link #create(ModelRepositoryManager, DeploymentManager, ShadowRunner, MeterRegistry, RandomSource,
     * TrafficGate)}, recording every answer in {@code stats} and, when {@code fallback} is enabled, retrying a
     * failed unversioned request once on a fallback version, with a retry budget and a circuit breaker per version.
     */
    public static ModelRouter create(ModelRepositoryManager repository, DeploymentManager deployments,
                                     ShadowRunner shadows, MeterRegistry registry, RandomSource random,
                                     TrafficGate gate, VersionStats stats, FallbackSettings fallback) {
        return new ModelRouter(repository, Optional.of(deployments), Optional.of(shadows), registry, random,
                id -> { }, gate, stats, fallback);
    }

    /** As {@link #create}, calling {@code beforeAdmission} between choosing a version and enqueueing: for tests. */
    static ModelRouter createForTest(ModelRepositoryManager repository, DeploymentManager deployments,
                                     ShadowRunner shadows, MeterRegistry registry, RandomSource random,
                                     Consumer<ModelId> beforeAdmission) {
        return new ModelRouter(repository, Optional.of(deployments), Optional.of(shadows), registry, random,
                beforeAdmission);
    }

    /** The lifecycle whose versions this router routes to. */
    public ModelLifecycle lifecycle() {
        return lifecycle;
    }

    /**
     * The version that would serve a request for {@code model} (and {@code version}, if given); for an
     * unversioned request, the READY route with the largest weight.
     *
     * @throws GantryException NOT_FOUND for an unknown model or a version that is not loaded, UNAVAILABLE when
     *     it is not READY
     */
    public ModelVersionState resolve(String model, OptionalLong version) {
        if (version.isPresent()) {
            return pinned(model, version.getAsLong(), PinnedAccess.PRE_RELEASE);
        }
        Optional<DeploymentSnapshot> snap = deployments.flatMap(d -> d.snapshot(model));
        if (snap.isPresent()) {
            Optional<ModelVersionState> best = snap.get().policy().routes().stream()
                    .filter(r -> r.weight() > 0)
                    .sorted((a, b) -> Integer.compare(b.weight(), a.weight()))
                    .map(r -> lifecycle.state(new ModelId(model, r.version())))
                    .flatMap(Optional::stream).filter(ModelVersionState::isReady).filter(this::mayServe).findFirst();
            if (best.isPresent()) {
                return best.get();
            }
        }
        return highestReady(model);
    }

    /**
     * Chooses the version for one request.
     *
     * @throws GantryException as {@link #resolve}
     */
    public Routed route(String model, OptionalLong version, Optional<String> routingKey) {
        return route(model, version, routingKey, PinnedAccess.RELEASED_ONLY);
    }

    /** As {@link #route(String, OptionalLong, Optional)}, pinned requests reaching what {@code access} allows. */
    public Routed route(String model, OptionalLong version, Optional<String> routingKey, PinnedAccess access) {
        if (version.isPresent()) {
            return new Routed(pinned(model, version.getAsLong(), access), RouteKind.PINNED, Optional.empty());
        }
        for (int attempt = 1; ; attempt++) {
            Optional<DeploymentSnapshot> snap = deployments.flatMap(d -> d.snapshot(model));
            if (snap.isEmpty()) {
                return new Routed(highestReady(model), RouteKind.WEIGHTED, Optional.empty());
            }
            TrafficSplitter splitter = snap.get().splitter();
            RouteKind kind = routingKey.isPresent() ? RouteKind.STICKY : RouteKind.WEIGHTED;
            long picked = routingKey.isPresent() ? splitter.pickSticky(routingKey.get()) : splitter.pick(random);
            Optional<ModelVersionState> s = lifecycle.state(new ModelId(model, picked))
                    .filter(ModelVersionState::isReady).filter(this::mayServe).filter(this::breakerAllows);
            if (s.isEmpty() && attempt < MAX_ATTEMPTS
                    && deployments.flatMap(d -> d.snapshot(model)).orElse(null) != snap.get()) {
                continue;
            }
            if (s.isEmpty()) {
                s = splitter.weightedVersions().stream().map(v -> lifecycle.state(new ModelId(model, v)))
                        .flatMap(Optional::stream).filter(ModelVersionState::isReady).filter(this::mayServe)
                        .filter(this::breakerAllows).findFirst();
            }
            if (s.isEmpty()) {
                s = reserve(snap.get()).stream().map(v -> lifecycle.state(new ModelId(model, v)))
                        .flatMap(Optional::stream).filter(ModelVersionState::isReady).filter(this::mayServe)
                        .filter(this::breakerAllows).findFirst();
            }
            if (s.isEmpty()) {
                // Every breaker is open: serving from a failing version beats refusing everything.
                s = splitter.weightedVersions().stream().map(v -> lifecycle.state(new ModelId(model, v)))
                        .flatMap(Optional::stream).filter(ModelVersionState::isReady).filter(this::mayServe)
                        .findFirst();
            }
            if (s.isEmpty()) {
                s = reserve(snap.get()).stream().map(v -> lifecycle.state(new ModelId(model, v)))
                        .flatMap(Optional::stream).filter(ModelVersionState::isReady).filter(this::mayServe)
                        .findFirst();
            }
            if (s.isEmpty()) {
                throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + model + "' has no READY version "
                        + "that may take routed requests among the routes of revision " + snap.get().revision()
                        + " " + splitter.weightedVersions() + "; its versions are "
                        + lifecycle.versions(model).stream().map(this::describe).toList());
            }
            return new Routed(s.get(), kind, snap);
        }
    }

    /** Where requests go when no weighted route can take them: the named fallback, then the standby versions. */
    private static List<Long> reserve(DeploymentSnapshot snap) {
        if (snap.policy().fallback().isEmpty()) {
            return snap.standby();
        }
        List<Long> out = new ArrayList<>();
        out.add(snap.policy().fallback().getAsLong());
        snap.standby().stream().filter(v -> v != out.get(0)).forEach(out::add);
        return out;
    }

    /**
     * Validates and admits a request. Failures (unknown model, invalid input, full queue, timeout, engine
     * error) complete the future exceptionally with a {@link GantryException}; this method does not throw.
     */
    public CompletableFuture<InferenceResponse> infer(String model, OptionalLong version, InferenceRequest request) {
        return infer(model, version, Optional.empty(), request).thenApply(RoutedResponse::response);
    }

    /**
     * Validates and admits a request, routed by {@code routingKey} when it is unversioned and has one. The
     * response says how the version was chosen. Never throws; failures complete the future exceptionally
     * with a {@link GantryException}.
     */
    public CompletableFuture<RoutedResponse> infer(String model, OptionalLong version, Optional<String> routingKey,
                                                   InferenceRequest request) {
        return infer(model, version, routingKey, request, PinnedAccess.RELEASED_ONLY, RequestContext.untraced());
    }

    /**
     * As {@link #infer(String, OptionalLong, Optional, InferenceRequest)} for a caller whose pinned requests may
     * reach what {@code access} allows (versions awaiting approval only for callers that may test them), with the
     * request's trace span (the queue, batch and shadow spans hang under it) and a place for its share of compute
     * time.
     */
    public CompletableFuture<RoutedResponse> infer(String model, OptionalLong version, Optional<String> routingKey,
                                                   InferenceRequest request, PinnedAccess access,
                                                   RequestContext context) {
        for (int attempt = 1; ; attempt++) {
            Routed routed;
            CompletableFuture<InferenceResponse> answer;
            try {
                routed = route(model, version, routingKey, access);
                ModelVersionState target = routed.target();
                InputValidator.validate(request, target.signature().orElseThrow(),
                        target.batchPolicy().orElseThrow().maxBatchSize());
                beforeAdmission.accept(target.id());
                answer = target.scheduler().orElseThrow().enqueue(request, context);
            } catch (GantryException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (version.isEmpty() && attempt < MAX_ATTEMPTS && refusedAtAdmission(answer)) {
                continue;
            }
            count(routed.target().id(), routed.kind());
            return answered(model, version, request, routed, answer, System.nanoTime(), context);
        }
    }

    /** As the six-argument inferAll, for a caller that may reach released versions only, untraced. */
    public CompletableFuture<RoutedResponses> inferAll(String model, OptionalLong version,
                                                       Optional<String> routingKey,
                                                       Function<ModelVersionState, List<InferenceRequest>> requestsFor) {
        return inferAll(model, version, routingKey, requestsFor, PinnedAccess.RELEASED_ONLY, RequestContext.untraced());
    }

    /** The answers to the requests of one {@link #inferAll} call, in order, all from one version. */
    public record RoutedResponses(ModelId model, List<InferenceResponse> responses, RouteKind kind) {
        public RoutedResponses {
            responses = List.copyOf(responses);
        }
    }

    /**
     * Routes once and admits every request {@code requestsFor} builds for the chosen version to that version's
     * scheduler: for a caller whose input depends on the version (a text model's tokenizer) or that splits
     * one call into several executions which must all be served by the same version. {@code requestsFor} may
     * throw a {@link GantryException}, which fails the call. Pinned requests reach what {@code access} allows; the
     * requests share {@code context}'s trace span. Never throws.
     */
    public CompletableFuture<RoutedResponses> inferAll(String model, OptionalLong version,
                                                       Optional<String> routingKey,
                                                       Function<ModelVersionState, List<InferenceRequest>> requestsFor,
                                                       PinnedAccess access, RequestContext context) {
        for (int attempt = 1; ; attempt++) {
            Routed routed;
            List<InferenceRequest> requests;
            List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>();
            try {
                routed = route(model, version, routingKey, access);
                ModelVersionState target = routed.target();
                requests = requestsFor.apply(target);
                for (InferenceRequest request : requests) {
                    InputValidator.validate(request, target.signature().orElseThrow(),
                            target.batchPolicy().orElseThrow().maxBatchSize());
                }
                beforeAdmission.accept(target.id());
                for (InferenceRequest request : requests) {
                    answers.add(target.scheduler().orElseThrow().enqueue(request, context));
                }
            } catch (GantryException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (version.isEmpty() && attempt < MAX_ATTEMPTS
                    && answers.stream().anyMatch(ModelRouter::refusedAtAdmission)) {
                continue;
            }
            count(routed.target().id(), routed.kind());
            RouteKind kind = routed.kind();
            ModelId served = routed.target().id();
            Optional<DeploymentSnapshot> snap = routed.snapshot();
            // One request (every OIP call) needs no allOf stage on the hot path.
            CompletableFuture<List<InferenceResponse>> all = answers.size() == 1
                    ? answers.get(0).thenApply(List::of)
                    : CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                            .thenApply(v -> answers.stream().map(CompletableFuture::join).toList());
            return all.thenApply(responses -> {
                snap.ifPresent(s -> {
                    for (int i = 0; i < requests.size(); i++) {
                        shadow(model, s, requests.get(i), responses.get(i), context.span());
                    }
                });
                return new RoutedResponses(served, responses, kind);
            });
        }
    }

    /*
     * Fallback. A failed attempt on an unversioned request is retried once on the fallback version when the
     * failure is the server's (model error, execution timeout, full queue, not READY: never a client error),
     * the retry budget allows it and time is left before the request's deadline (its queue timeout, else the
     * version's default, counted from the first admission; a request with neither has no deadline). The
     * fallback is the version the policy names, else the other primary route with the largest weight, else the
     * first standby version (each skipped when it is the failed one, not READY, not allowed or its breaker is
     * open). A worker process that crashed (isolation) failed the request without the version being at fault
     * for the next one: it is retried like a model error, with its own reason. A request
     * that timed out in the queue has used its deadline and is not retried. Every answer and server-side
     * failure feeds the version's stats and circuit breaker.
     */
    private CompletableFuture<RoutedResponse> answered(String model, OptionalLong version, InferenceRequest request,
                                                       Routed routed, CompletableFuture<InferenceResponse> answer,
                                                       long admitted, RequestContext context) {
        ModelId chosen = routed.target().id();
        RouteKind kind = routed.kind();
        Optional<DeploymentSnapshot> snap = routed.snapshot();
        CompletableFuture<RoutedResponse> out = new CompletableFuture<>();
        stats.offer(chosen);
        answer.whenComplete((r, e) -> {
            long took = System.nanoTime() - admitted;
            if (e == null) {
                stats.record(chosen, false, took);
                if (fallback.enabled()) {
                    breaker(chosen).success();
                }
                budget.request();
                snap.ifPresent(s -> shadow(model, s, request, r, context.span()));
                out.complete(new RoutedResponse(r, kind));
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            Optional<String> reason = cause instanceof GantryException g ? serverReason(g.code()) : Optional.empty();
            if (reason.isPresent()) {
                stats.record(chosen, true, took);
            }
            if (fallback.enabled()) {
                if (reason.isPresent()) {
                    breaker(chosen).failure();
                } else {
                    breaker(chosen).neutral();
                }
            }
            if (reason.isEmpty() || !fallback.enabled() || version.isPresent() || snap.isEmpty()
                    || reason.get().equals("deadline")) {
                budget.request();
                out.completeExceptionally(cause);
                return;
            }
            Optional<Long> left = timeLeftMicros(request, routed.target(), admitted);
            Optional<ModelVersionState> to = fallbackFor(model, snap.get(), chosen.version());
            if (to.isEmpty() || left.map(l -> l <= 0).orElse(false)) {
                budget.request();
                out.completeExceptionally(cause);
                return;
            }
            if (!budget.tryRetry()) {
                Counter.builder(MetricNames.FALLBACK_BUDGET_EXHAUSTED.meterName())
                        .description("Fallbacks refused because the retry budget was spent")
                        .tag("model", model).register(registry).increment();
                out.completeExceptionally(cause);
                return;
            }
            retry(model, request, to.get(), left, kind, snap.get(), new RoutedResponse.Fallback(chosen.version(),
                    reason.get()), cause, out, context);
        });
        return out;
    }

    private void retry(String model, InferenceRequest request, ModelVersionState to, Optional<Long> leftMicros,
                       RouteKind kind, DeploymentSnapshot snap, RoutedResponse.Fallback why, Throwable first,
                       CompletableFuture<RoutedResponse> out, RequestContext context) {
        InferenceRequest again = leftMicros.isEmpty() ? request : new InferenceRequest(request.id(), request.inputs(),
                request.requestedOutputs(), Optional.of(Math.max(1, leftMicros.get())), request.parameters());
        long start = System.nanoTime();
        CompletableFuture<InferenceResponse> second;
        try {
            InputValidator.validate(again, to.signature().orElseThrow(), to.batchPolicy().orElseThrow().maxBatchSize());
            second = to.scheduler().orElseThrow().enqueue(again, context);
        } catch (RuntimeException x) {
            out.completeExceptionally(first);
            return;
        }
        stats.offer(to.id());
        second.whenComplete((r, e) -> {
            long took = System.nanoTime() - start;
            if (e == null) {
                stats.record(to.id(), false, took);
                breaker(to.id()).success();
                Counter.builder(MetricNames.FALLBACK_REQUESTS.meterName())
                        .description("Requests answered by a fallback version after the chosen one failed")
                        .tags("model", model, "from", Long.toString(why.fromVersion()), "reason", why.reason())
                        .register(registry).increment();
                shadow(model, snap, request, r, context.span());
                out.complete(new RoutedResponse(r, kind, Optional.of(why)));
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof GantryException g && serverReason(g.code()).isPresent()) {
                stats.record(to.id(), true, took);
                breaker(to.id()).failure();
            }
            out.completeExceptionally(first);
        });
    }

    /** The reason a failure is the server's (and may be retried elsewhere), empty for client errors. */
    private static Optional<String> serverReason(ErrorCode code) {
        return switch (code) {
            case INTERNAL -> Optional.of("model_error");
            case MODEL_TIMEOUT -> Optional.of("timeout");
            case DEADLINE_EXCEEDED -> Optional.of("deadline");
            case RESOURCE_EXHAUSTED -> Optional.of("queue_full");
            case UNAVAILABLE -> Optional.of("unavailable");
            case WORKER_CRASHED -> Optional.of("worker_crash");
            default -> Optional.empty();
        };
    }

    /** Microseconds left before the request's deadline; empty when it has none. */
    private static Optional<Long> timeLeftMicros(InferenceRequest request, ModelVersionState target, long admitted) {
        long timeout = request.timeoutMicros().orElse(target.batchPolicy().map(p -> p.defaultTimeoutMicros()).orElse(0L));
        if (timeout <= 0) {
            return Optional.empty();
        }
        return Optional.of(timeout - (System.nanoTime() - admitted) / 1000);
    }

    /**
     * The named fallback, else the other primary route with the largest weight, else the first standby; READY,
     * allowed, breaker closed.
     */
    private Optional<ModelVersionState> fallbackFor(String model, DeploymentSnapshot snap, long failed) {
        List<Long> candidates = new java.util.ArrayList<>();
        snap.policy().fallback().stream().filter(v -> v != failed).forEach(candidates::add);
        snap.policy().routes().stream().filter(r -> r.weight() > 0 && r.version() != failed)
                .sorted((a, b) -> Integer.compare(b.weight(), a.weight())).forEach(r -> candidates.add(r.version()));
        snap.standby().stream().filter(v -> v != failed).forEach(candidates::add);
        return candidates.stream().map(v -> lifecycle.state(new ModelId(model, v))).flatMap(Optional::stream)
                .filter(ModelVersionState::isReady).filter(this::mayServe).filter(this::breakerAllows).findFirst();
    }

    /** The version's circuit breaker, created (and its state gauge registered) on first use. */
    public CircuitBreaker breaker(ModelId id) {
        return breakers.computeIfAbsent(id, k -> {
            CircuitBreaker b = new CircuitBreaker(fallback, MILLIS);
            Gauge.builder(MetricNames.CIRCUIT_STATE.meterName(), b, CircuitBreaker::gaugeValue)
                    .description("A version's circuit breaker: 0 closed, 1 half-open, 2 open")
                    .tags("model", k.name(), "version", Long.toString(k.version())).strongReference(true)
                    .register(registry);
            return b;
        });
    }

    private boolean breakerAllows(ModelVersionState s) {
        return !fallback.enabled() || breaker(s.id()).allow();
    }

    private static boolean refusedAtAdmission(CompletableFuture<InferenceResponse> answer) {
        if (!answer.isCompletedExceptionally()) {
            return false;
        }
        try {
            answer.join();
            return false;
        } catch (CompletionException e) {
            return e.getCause() instanceof GantryException g && g.code() == ErrorCode.UNAVAILABLE;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Offers copies to the shadow versions: non-blocking, and it never fails the primary. */
    private void shadow(String model, DeploymentSnapshot snap, InferenceRequest request, InferenceResponse primary,
                        TraceSpan parent) {
        if (shadows.isEmpty() || snap.policy().shadow().isEmpty()) {
            return;
        }
        try {
            TrafficSplitter splitter = snap.splitter();
            for (long v : splitter.shadowVersions()) {
                boolean allowed = gate == TrafficGate.allowAll() || gate.status(model, v)
                        .map(st -> st.mayTakeShadow(Instant.now())).orElse(false);
                if (allowed && splitter.shadowFor(v, random)) {
                    ModelId id = new ModelId(model, v);
                    if (shadows.get().offer(id, request, primary, parent)) {
                        count(id, RouteKind.SHADOW);
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("model '{}': shadow offer failed: {}", model, e.toString());
        }
    }

    /**
     * Registers {@code id}'s route counters (every kind, at zero) and opens its analysis counters before the
     * version takes requests; see {@link dev.gantry.core.lifecycle.ModelLifecycle#onReady}. Idempotent.
     */
    public void prepare(ModelId id) {
        for (RouteKind kind : RouteKind.values()) {
            counter(id, kind);
        }
        stats.open(id);
    }

    private void count(ModelId id, RouteKind kind) {
        counter(id, kind).increment();
    }

    private Counter counter(ModelId id, RouteKind kind) {
        var byKind = routeCounters.get(id);
        if (byKind == null) {
            byKind = routeCounters.computeIfAbsent(id,
                    k -> new java.util.concurrent.atomic.AtomicReferenceArray<>(RouteKind.values().length));
        }
        Counter c = byKind.get(kind.ordinal());
        if (c == null) {
            // Registering twice is harmless: the registry answers the same counter for the same id.
            c = Counter.builder(MetricNames.ROUTE_REQUESTS.meterName())
                    .description("Requests routed to a model version, by how the version was chosen")
                    .tags("model", id.name(), "version", Long.toString(id.version()), "kind", kind.tagValue())
                    .register(registry);
            byKind.set(kind.ordinal(), c);
        }
        return c;
    }

    private ModelVersionState pinned(String model, long version, PinnedAccess access) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
        // A retired version answers 410 naming its successor, loaded or not.
        if (gate.status(model, version).map(st -> st.isGone(Instant.now())).orElse(false)) {
            gate.checkPinned(model, version, Instant.now());
        }
        ModelId id = new ModelId(model, version);
        ModelVersionState s = lifecycle.state(id).orElseThrow(() -> GantryException.notFound("model '" + model
                + "' has no version " + version + "; its versions are "
                + versions.stream().map(v -> v.id().version()).toList()));
        if (s.state() == ModelReadyState.UNAVAILABLE && s.reason().filter("unloaded"::equals).isPresent()) {
            throw GantryException.notFound("model '" + model + "' version " + version + " is not loaded");
        }
        gate.checkPinned(model, version, Instant.now(), access);
        if (!s.isReady()) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + model + "' version " + version
                    + " is " + s.state() + s.reason().map(r -> ": " + r).orElse(""));
        }
        return s;
    }

    /** Whether the gate lets this version take primary traffic now (always, without governance). */
    private boolean mayServe(ModelVersionState s) {
        if (gate == TrafficGate.allowAll()) {
            return true;
        }
        return gate.status(s.id().name(), s.id().version()).map(st -> st.mayServeRouted()).orElse(false);
    }

    private ModelVersionState highestReady(String model) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
        for (int i = versions.size() - 1; i >= 0; i--) {
            if (versions.get(i).isReady() && mayServe(versions.get(i))) {
                return versions.get(i);
            }
        }
        boolean anyReady = versions.stream().anyMatch(ModelVersionState::isReady);
        throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + model + "' has no "
                + (anyReady ? "version that may take routed requests" : "READY version")
                + (versions.isEmpty() ? "" : "; its versions are " + versions.stream().map(this::describe).toList()));
    }

    /**
     * A version as an UNAVAILABLE answer lists it: its state and why, and for a READY version the gate refuses,
     * the release stage it is in (or that the catalogue has not registered it yet, as early in a start).
     */
    private String describe(ModelVersionState v) {
        String text = v.id().version() + " " + v.state() + v.reason().map(r -> " (" + r + ")").orElse("");
        if (!v.isReady() || mayServe(v)) {
            return text;
        }
        return text + gate.status(v.id().name(), v.id().version())
                .map(st -> ", release stage " + st.stage() + ": routed requests need APPROVED or DEPRECATED")
                .orElse(", not in the release catalogue yet (a starting server adds the versions it loads before"
                        + " it reports ready)");
    }
}
