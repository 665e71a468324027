package dev.gantry.http;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.http.health.HealthHandler;
import dev.gantry.http.inference.InferenceHandler;
import dev.gantry.http.inference.MetadataHandler;
import dev.gantry.http.inference.OipCodec;
import dev.gantry.http.metrics.MetricsSetup;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.core.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Wires the model repository, lifecycle, router and HTTP verticles into one running server. */
public final class GantryServer {
    /*
     * Start: bind HTTP first (liveness answers at once, readiness says false), then scan the repository and
     * load every selected version in the background; readiness turns true once every load has settled
     * (READY or UNAVAILABLE: one broken model does not keep the others from serving).
     * Stop: readiness false and new inference refused with 503 at once; every admitted request is answered
     * (bounded by the drain timeout); then the HTTP server and the engine are closed.
     */
    public static final String VERSION = "0.1.0";
    private static final Logger log = LoggerFactory.getLogger(GantryServer.class);

    private final ServerConfig config;
    private final ExecutorFactory executorFactory;
    private final AtomicBoolean loaded = new AtomicBoolean();
    private final AtomicBoolean draining = new AtomicBoolean();
    private Vertx vertx;
    private WorkerExecutor workers;
    private ExecutorService loaderPool;
    private ScheduledExecutorService timers;
    private ModelLifecycle lifecycle;
    private ModelRepositoryManager repository;
    private PrometheusMeterRegistry registry;
    private int port;
    private CompletableFuture<Void> loadedFuture;

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
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e.getMessage());
        } catch (IOException e) {
            return Future.failedFuture("cannot create data directory " + config.dataDir() + ": " + e.getMessage());
        }
        registry = MetricsSetup.prometheus();
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
        timers = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("gantry-timers").unstarted(r));
        lifecycle = new ModelLifecycle(config.lifecycleSettings(), registry, executorFactory, loaderPool, timers);
        repository = new ModelRepositoryManager(repo, lifecycle);
        ModelRouter router = new ModelRouter(repository);
        OipCodec codec = new OipCodec(config.codecLimits());
        InferenceHandler inference = new InferenceHandler(router, codec, config.maxBodyBytes(), workers,
                () -> !draining.get());
        MetadataHandler metadata = new MetadataHandler(repository, router);
        HealthHandler health = new HealthHandler(VERSION, this::isReady);
        HttpVerticle[] first = new HttpVerticle[1];
        return vertx.deployVerticle(() -> {
                    HttpVerticle v = new HttpVerticle(config, inference, metadata, health, this::scrape);
                    if (first[0] == null) {
                        first[0] = v;
                    }
                    return v;
                }, new DeploymentOptions().setInstances(config.eventLoops()))
                .map(id -> {
                    port = first[0].actualPort();
                    log.info("Gantry {} listening on http://{}:{} (models: {}, data: {})", VERSION, config.host(),
                            port, config.modelsDir().toAbsolutePath().normalize(), config.dataDir());
                    loadedFuture = repository.loadAll().whenComplete((v, e) -> {
                        loaded.set(true);
                        long ready = lifecycle.snapshot().values().stream().filter(s -> s.isReady()).count();
                        log.info("Gantry ready on http://{}:{} ({} of {} model versions READY)", config.host(), port,
                                ready, lifecycle.snapshot().size());
                    });
                    return this;
                })
                .recover(e -> {
                    closeResources();
                    return Future.failedFuture("cannot listen on " + config.host() + ":" + config.port() + ": "
                            + e.getMessage());
                });
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

    /** Completes when every model version selected at start has settled (READY or UNAVAILABLE). */
    public CompletableFuture<Void> modelsSettled() {
        return loadedFuture;
    }

    public int port() {
        return port;
    }

    public ModelLifecycle lifecycle() {
        return lifecycle;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Graceful stop: readiness false, new inference refused, admitted requests answered (up to the drain
     * timeout), then everything closed. Safe to call twice.
     */
    public CompletableFuture<Void> stop() {
        if (!draining.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        long start = System.nanoTime();
        log.info("draining: readiness is false, new requests are refused");
        return lifecycle.unloadAll()
                .orTimeout(config.drainTimeout().plus(Duration.ofSeconds(5)).toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> null)
                .thenCompose(v -> vertx.close().toCompletionStage())
                .whenComplete((v, e) -> {
                    closeResources();
                    log.info("stopped after draining for {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                })
                .exceptionally(e -> null);
    }

    private void closeResources() {
        if (loaderPool != null) {
            loaderPool.shutdownNow();
        }
        if (timers != null) {
            timers.shutdownNow();
        }
        if (registry != null) {
            registry.close();
        }
        if (vertx != null && draining.get() == false) {
            vertx.close();
        }
    }

    static void requireDirectory(java.nio.file.Path p) {
        if (!Files.isDirectory(p)) {
            throw new UncheckedIOException(new IOException(p + " is not a directory"));
        }
    }
}
