package dev.gantry.http;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSettings;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.core.routing.RandomSource;
import dev.gantry.core.routing.ShadowRunner;
import dev.gantry.http.admin.DeploymentsHandler;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.governance.Governance;
import dev.gantry.store.catalog.RiskTier;
import dev.gantry.core.governance.Retirement;
import dev.gantry.core.model.ModelId;
import dev.gantry.http.admin.Auditor;
import dev.gantry.http.admin.GovernanceHandler;
import dev.gantry.http.auth.ApiKey;
import dev.gantry.store.artifact.ArtifactLimits;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.catalog.VersionStage;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import dev.gantry.http.admin.KeysHandler;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.http.auth.RateLimiter;
import dev.gantry.http.health.HealthHandler;
import dev.gantry.http.inference.InferenceHandler;
import dev.gantry.http.inference.MetadataHandler;
import dev.gantry.http.inference.OipCodec;
import dev.gantry.http.logging.AccessLog;
import dev.gantry.http.metrics.MetricsSetup;
import dev.gantry.store.repository.ModelRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Wires the model repository, lifecycle, router, access control and HTTP verticles into one running server. */
public final class GantryServer {
    /*
     * Start: refuse an unsafe posture (a non-loopback address with no API key, unless --insecure); bind HTTP
     * (liveness answers at once, readiness says false); scan the repository and load every selected version in
     * the background; readiness turns true once every load has settled (READY or UNAVAILABLE: one broken
     * model does not keep the others from serving).
     * Stop (SIGTERM): readiness false and new inference refused with 503 at once; every admitted request is
     * answered (bounded by the drain timeout) and its response written; then the HTTP server and engine close.
     */
    public static final String VERSION = "0.1.0";
    private static final Logger log = LoggerFactory.getLogger(GantryServer.class);

    private final ServerConfig config;
    private final ExecutorFactory executorFactory;
    private final AtomicBoolean loaded = new AtomicBoolean();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger inflight = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong lastRequestNanos = new java.util.concurrent.atomic.AtomicLong();
    private Vertx vertx;
    private WorkerExecutor workers;
    private ExecutorService loaderPool;
    private ScheduledExecutorService timers;
    private ModelLifecycle lifecycle;
    private ModelRepositoryManager repository;
    private PrometheusMeterRegistry registry;
    private KeyStore keys;
    private DeploymentManager deployments;
    private CatalogStore catalog;
    private Governance governance;
    private DeploymentArchive archive;
    private ArtifactStore artifacts;
    private final Map<ModelId, Instant> lastServed = GovernanceHandler.newLastServed();
    private ShadowRunner shadows;
    private AccessLog accessLog;
    private int port;
    private int adminPort;
    private CompletableFuture<Void> loadedFuture;
    private CompletableFuture<Void> stopped;
    private String deploymentId;

    private GantryServer(ServerConfig config, ExecutorFactory executorFactory) {
        this.config = config;
        this.executorFactory = executorFactory;
    }

    public static GantryServer create(ServerConfig config) {
        return new GantryServer(config, ExecutorFactory.onnxRuntime());
    }

    /** A server whose models are loaded by {@code factory} (fault-injection tests). */
    public static GantryServer create(ServerConfig config, ExecutorFactory factory) {
        return new GantryServer(config, factory);
    }

    /** Binds the port and starts loading models; completes when HTTP is listening (not when models are ready). */
    public Future<GantryServer> start() {
        ModelRepository repo;
        try {
            repo = ModelRepository.onDisk(config.modelsDir());
            Files.createDirectories(config.dataDir());
            if (!Files.isWritable(config.dataDir())) {
                return Future.failedFuture("data directory " + config.dataDir() + " is not writable");
            }
            keys = KeyStore.open(config.dataDir(), Clock.systemUTC());
            String bootstrap = System.getenv("GANTRY_BOOTSTRAP_ADMIN_TOKEN");
            if (bootstrap != null && !bootstrap.isBlank()) {
                keys.bootstrapFrom(bootstrap.trim(), "admin").ifPresent(k -> log.info(
                        "registered the first admin key '{}' (id {}) from GANTRY_BOOTSTRAP_ADMIN_TOKEN", k.name(), k.id()));
            }
        } catch (IllegalArgumentException | dev.gantry.core.error.GantryException e) {
            return Future.failedFuture(e.getMessage());
        } catch (IOException | java.io.UncheckedIOException e) {
            return Future.failedFuture("cannot use data directory " + config.dataDir() + ": " + e.getMessage());
        }
        if (keys.isEmpty() && !config.isLoopback() && !config.security().insecure()) {
            return Future.failedFuture("refusing to serve on " + config.host() + " with no API keys: anyone who can"
                    + " reach it could call and change models. Create an admin key first (./gantry keys bootstrap),"
                    + " bind to 127.0.0.1, or pass --insecure");
        }
        registry = MetricsSetup.prometheus();
        try {
            accessLog = AccessLog.open(config.security().accessLog(), registry);
        } catch (IOException e) {
            return Future.failedFuture("cannot open access log " + config.security().accessLog() + ": " + e.getMessage());
        }
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops())
                .setWorkerPoolSize(config.workerThreads()));
        Counter blocked = Counter.builder(MetricNames.EVENT_LOOP_BLOCKED.meterName())
                .description("Times an event loop was blocked past Vert.x's limit").register(registry);
        ((VertxInternal) vertx).blockedThreadChecker().setThreadBlockedHandler(event -> {
            blocked.increment();
            log.warn("Vert.x thread blocked: {}", event);
        });
        workers = vertx.createSharedWorkerExecutor("gantry-worker", config.workerThreads());
        AtomicInteger n = new AtomicInteger();
        loaderPool = Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon(true)
                .name("gantry-model-loader-" + n.incrementAndGet()).unstarted(r));
        timers = dev.gantry.core.scheduling.Timers.create("gantry-timers");
        timers.scheduleWithFixedDelay(keys::refreshIfChanged, 250, 250, TimeUnit.MILLISECONDS);
        lifecycle = new ModelLifecycle(config.lifecycleSettings(), registry, executorFactory, loaderPool, timers);
        repository = new ModelRepositoryManager(repo, lifecycle);
        try {
            catalog = CatalogStore.h2(config.dataDir());
            artifacts = ArtifactStore.inRepository(config.modelsDir(), ArtifactLimits.defaults());
            List<Path> leftovers = artifacts.cleanStaging();
            if (!leftovers.isEmpty()) {
                log.warn("removed {} leftovers of interrupted uploads: {}", leftovers.size(), leftovers);
            }
        } catch (RuntimeException e) {
            closeResources();
            vertx.close();
            return Future.failedFuture("cannot open the catalogue in " + config.dataDir() + ": " + e.getMessage());
        }
        CardPolicy cardPolicy;
        try {
            cardPolicy = cardPolicy(config.dataDir().resolve("card-policy.json"));
        } catch (RuntimeException | IOException e) {
            closeResources();
            vertx.close();
            return Future.failedFuture(e.getMessage());
        }
        governance = Governance.create(catalog, cardPolicy, Clock.systemUTC());
        Auditor auditor = new Auditor(catalog);
        keys.onFileChange((before, after) -> auditKeyFileChanges(auditor, before, after));
        archive = DeploymentArchive.h2(catalog);
        deployments = DeploymentManager.create(repository, archive,
                new DeploymentSettings(config.standbyCount(), 1000), Clock.systemUTC(), registry,
                governance.trafficGate());
        shadows = ShadowRunner.start(lifecycle, registry, config.shadowQueueSize(), config.limits().requestTimeout());
        ModelRouter router = ModelRouter.create(repository, deployments, shadows, registry, RandomSource.threadLocal(),
                governance.trafficGate());
        OipCodec codec = new OipCodec(config.limits().codec());
        InferenceHandler inference = new InferenceHandler(router, codec, config.limits(), workers,
                () -> !draining.get(), inflight, this::servedBy);
        AccessControl access = new AccessControl(keys, new RateLimiter(config.security().rateLimit(),
                config.security().rateBurst(), System::nanoTime), config.security().openHealth(), config.metricsOpen());
        HttpVerticle.Handlers handlers = new HttpVerticle.Handlers(inference, new MetadataHandler(repository, router),
                new HealthHandler(VERSION, this::isReady), this::scrape, new KeysHandler(keys, workers, auditor),
                new DeploymentsHandler(repository, deployments, auditor, workers),
                new GovernanceHandler(governance, catalog, archive, artifacts, repository, deployments, workers,
                        lastServed, Duration.ofDays(30)),
                access, accessLog, draining::get,
                lastRequestNanos);
        HttpVerticle[] first = new HttpVerticle[1];
        return vertx.deployVerticle(() -> {
                    HttpVerticle v = new HttpVerticle(config, handlers);
                    if (first[0] == null) {
                        first[0] = v;
                    }
                    return v;
                }, new DeploymentOptions().setInstances(config.eventLoops()))
                .map(id -> {
                    deploymentId = id;
                    port = first[0].actualPort();
                    adminPort = first[0].adminPort();
                    String scheme = config.security().tlsCert().isPresent() ? "https" : "http";
                    log.info("Gantry {} listening on {}://{}:{}{} (models: {}, data: {})", VERSION, scheme,
                            config.host(), port, config.security().adminPort().isPresent()
                                    ? ", admin routes on port " + adminPort : "",
                            config.modelsDir().toAbsolutePath().normalize(), config.dataDir());
                    logPosture();
                    loadedFuture = repository.loadAll()
                            .thenRunAsync(this::catalogueExistingVersions, loaderPool)
                            .thenCompose(v -> deployments.restore()).whenComplete((v, e) -> {
                        timers.scheduleWithFixedDelay(this::retireDue, 1, 1, TimeUnit.SECONDS);
                        if (e != null) {
                            log.error("restoring deployments failed; models without a restored policy serve their"
                                    + " highest version", e);
                        }
                        loaded.set(true);
                        long ready = lifecycle.snapshot().values().stream().filter(s -> s.isReady()).count();
                        log.info("Gantry ready on {}://{}:{} ({} of {} model versions READY)", scheme, config.host(),
                                port, ready, lifecycle.snapshot().size());
                    });
                    return this;
                })
                .recover(e -> {
                    closeResources();
                    vertx.close();
                    return Future.failedFuture("cannot listen on " + config.host() + ":" + config.port() + ": "
                            + e.getMessage());
                });
    }

    private void logPosture() {
        if (keys.isEmpty()) {
            log.warn("no API keys exist: every route is open to anyone who can reach {}{}. Create an admin key with"
                    + " ./gantry keys bootstrap", config.host(), config.isLoopback()
                    ? " (loopback only)" : " (--insecure)");
        } else {
            log.info("API keys required ({} keys); health {}, metrics {}", keys.list().size(),
                    config.security().openHealth() ? "open" : "need a key", config.metricsOpen() ? "open" : "need a key");
        }
    }

    private void scrape(RoutingContext ctx) {
        workers.executeBlocking(() -> registry.scrape(), /* ordered= */ false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(Buffer.buffer(text)))
                .onFailure(ctx::fail);
    }

    public boolean isReady() {
        return loaded.get() && !draining.get();
    }

    /**
     * Versions on disk that the catalogue has never seen (the bundled models, or files copied in by hand) are
     * catalogued as APPROVED by "system": they were serving before governance, and the audit trail says so.
     */
    private void catalogueExistingVersions() {
        for (ModelEntry entry : repository.models().values()) {
            for (ModelVersionEntry v : entry.versions()) {
                if (governance.version(entry.name(), v.version()).isPresent()) {
                    continue;
                }
                try {
                    String digest = artifacts.digest(entry.name(), v.version()).orElse(sha256(v.modelFile()));
                    governance.registerExisting(entry.name(), v.version(), digest, Files.size(v.modelFile()), "system");
                } catch (IOException | RuntimeException e) {
                    log.error("cannot catalogue {}/{}: {}", entry.name(), v.version(), e.toString());
                }
            }
        }
    }

    private static String sha256(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Key changes made with 'gantry keys' (the key file) are audited when the server picks them up. */
    private static void auditKeyFileChanges(Auditor auditor, Map<String, ApiKey> before, Map<String, ApiKey> after) {
        String actor = "local operator (gantry keys)";
        for (ApiKey k : after.values()) {
            ApiKey old = before.get(k.id());
            if (old == null) {
                auditor.record(actor, "file", "key.create", "key:" + k.id(), "", k.name() + " " + k.roles());
            } else if (old.revoked().isEmpty() && k.revoked().isPresent()) {
                auditor.record(actor, "file", "key.revoke", "key:" + k.id(), "active", "revoked");
            } else if (!old.secretSha256().equals(k.secretSha256())) {
                auditor.record(actor, "file", "key.rotate", "key:" + k.id(), "", "new secret");
            }
        }
    }

    /**
     * The card fields each risk tier requires: {@code <data>/card-policy.json} ({"low": [...], "medium": [...],
     * "high": [...]}) when present, else the defaults.
     */
    static CardPolicy cardPolicy(Path file) throws IOException {
        if (!Files.exists(file)) {
            return CardPolicy.defaults();
        }
        com.fasterxml.jackson.databind.JsonNode root = dev.gantry.http.json.Json.MAPPER.readTree(file.toFile());
        Map<RiskTier, java.util.Collection<String>> required = new java.util.EnumMap<>(RiskTier.class);
        for (RiskTier tier : RiskTier.values()) {
            List<String> fields = new java.util.ArrayList<>();
            root.path(tier.name().toLowerCase(java.util.Locale.ROOT)).forEach(f -> fields.add(f.asText()));
            required.put(tier, fields);
        }
        try {
            return CardPolicy.of(required);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** At sunset a DEPRECATED version is RETIRED and leaves every route (its successor takes the share). */
    private void retireDue() {
        try {
            for (Retirement r : governance.retireDue(Instant.now())) {
                deployments.snapshot(r.model()).ifPresent(snap -> r.rewrite(snap.policy()).ifPresentOrElse(
                        policy -> deployments.applyPolicy(r.model(), policy, OptionalLong.of(snap.revision()), "system",
                                "version " + r.version() + " retired at its sunset"),
                        () -> log.error("model '{}': version {} retired at its sunset but was its only route; requests"
                                + " to the model are refused until a policy routes an approved version", r.model(),
                                r.version())));
            }
        } catch (RuntimeException e) {
            log.error("retiring versions past their sunset failed", e);
        }
    }

    /** Response headers for the version that served: RFC 9745 Deprecation and RFC 8594 Sunset when deprecated. */
    private Map<String, String> servedBy(ModelId id) {
        lastServed.put(id, Instant.now());
        return governance.trafficGate().status(id.name(), id.version())
                .filter(s -> s.stage() == VersionStage.DEPRECATED)
                .map(s -> {
                    Map<String, String> h = new java.util.LinkedHashMap<>();
                    h.put("Deprecation", "@" + s.since().getEpochSecond());
                    s.sunset().ifPresent(sunset -> h.put("Sunset", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                            .format(sunset.atZone(java.time.ZoneOffset.UTC))));
                    return h;
                }).orElse(Map.of());
    }

    /** Completes when every model version selected at start has settled (READY or UNAVAILABLE). */
    public CompletableFuture<Void> modelsSettled() {
        return loadedFuture;
    }

    public int port() {
        return port;
    }

    /** The port admin routes are served on (the main port unless --admin-port is set). */
    public int adminPort() {
        return adminPort;
    }

    public ModelLifecycle lifecycle() {
        return lifecycle;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public DeploymentManager deployments() {
        return deployments;
    }

    public KeyStore keys() {
        return keys;
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Graceful stop: readiness false, new inference refused, admitted requests answered and written (up to
     * the drain timeout), then everything closed. Safe to call more than once.
     */
    public synchronized CompletableFuture<Void> stop() {
        if (stopped != null) {
            return stopped;
        }
        draining.set(true);
        long start = System.nanoTime();
        log.info("draining: readiness is false, new requests are refused; {} requests in flight", inflight.get());
        Duration drain = config.drainTimeout();
        stopped = lifecycle.unloadAll()
                .orTimeout(drain.plus(Duration.ofSeconds(5)).toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> null)
                .thenCompose(v -> awaitResponsesWritten(System.nanoTime() + Duration.ofSeconds(5).toNanos()))
                // Keep answering 503 (with Connection: close) until callers have stopped sending for a moment,
                // so that closing the listener does not cut off a request already on its way.
                .thenCompose(v -> awaitQuiet(QUIET_PERIOD, System.nanoTime() + drain.toNanos()))
                // Stop listening first (new connections are refused), let requests already on a connection be
                // answered (503 while draining), then close everything.
                .thenCompose(v -> (deploymentId == null ? Future.<Void>succeededFuture() : vertx.undeploy(deploymentId))
                        .otherwiseEmpty().toCompletionStage())
                .thenCompose(v -> vertx.close().toCompletionStage())
                .handle((v, e) -> {
                    closeResources();
                    log.info("stopped after draining for {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                    return null;
                });
        return stopped;
    }

    static final Duration QUIET_PERIOD = Duration.ofMillis(300);

    /** Completes once no request has arrived for {@code quiet}, or at the deadline. */
    private CompletableFuture<Void> awaitQuiet(Duration quiet, long deadlineNanos) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            long now = System.nanoTime();
            if (now - lastRequestNanos.get() >= quiet.toNanos() || now > deadlineNanos) {
                done.complete(null);
            } else {
                timers.schedule(check[0], 20, TimeUnit.MILLISECONDS);
            }
        };
        check[0].run();
        return done;
    }

    /** Completes when every admitted inference request's response has been written, or at the deadline. */
    private CompletableFuture<Void> awaitResponsesWritten(long deadlineNanos) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            if (inflight.get() <= 0 || System.nanoTime() > deadlineNanos) {
                done.complete(null);
            } else {
                timers.schedule(check[0], 10, TimeUnit.MILLISECONDS);
            }
        };
        check[0].run();
        return done;
    }

    private void closeResources() {
        if (loaderPool != null) {
            loaderPool.shutdownNow();
        }
        if (timers != null) {
            timers.shutdownNow();
        }
        if (shadows != null) {
            shadows.close();
        }
        if (accessLog != null) {
            accessLog.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (catalog != null) {
            try {
                catalog.close();
            } catch (Exception e) {
                log.warn("closing the catalogue: {}", e.toString());
            }
        }
    }
}
