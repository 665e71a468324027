package dev.gantry.http;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.runtime.ServingRuntime;
import dev.gantry.http.auth.KeyFileAuditor;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.http.logging.AccessLog;
import dev.gantry.http.grpc.GrpcEndpoint;
import dev.gantry.http.grpc.GrpcInferenceService;
import dev.gantry.http.grpc.GrpcWiring;
import dev.gantry.http.metrics.MetricsSetup;
import dev.gantry.http.tracing.Tracing;
import dev.gantry.http.usage.UsageService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Wires the core, access control and the HTTP verticles into one running server; decides nothing itself. */
public final class GantryServer {
    /*
     * Start: refuse an unsafe posture (ServerPosture); bind HTTP (liveness answers at once, readiness says false);
     * start the core, which loads the repository in the background; readiness turns true once every load has
     * settled (READY or UNAVAILABLE: one broken model does not keep the others from serving).
     * Stop (SIGTERM): readiness false and new inference refused with 503 at once; every admitted request is
     * answered (bounded by the drain timeout) and its response written; then HTTP, usage, the core close.
     */
    public static final String VERSION = "0.1.0";
    private static final Logger log = LoggerFactory.getLogger(GantryServer.class);
    /** How long past its own deadline the start waits for the warm-up before it reports ready anyway. */
    private static final long WARMUP_SLACK_MILLIS = 5_000;

    private final ServerConfig config;
    private final ExecutorFactory executorFactory;
    private volatile boolean loaded;
    private Drain drain;
    private Vertx vertx;
    private WorkerExecutor workers;
    private ServingRuntime core;
    private PrometheusMeterRegistry registry;
    private KeyStore keys;
    private AccessLog accessLog;
    private UsageService usage;
    private Optional<Tracing> tracing = Optional.empty();
    private GrpcEndpoint grpc;
    private HttpVerticle first;
    private CompletableFuture<Void> settled;
    private CompletableFuture<Void> stopped;
    private String deploymentId;
    private volatile Future<StartupWarmup.Result> warmup;

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
        try {
            keys = ServerPosture.openKeys(config);
            registry = MetricsSetup.prometheus();
            accessLog = AccessLog.open(config.security().accessLog(), registry);
            core = ServingRuntime.open(config.runtimeSettings(CardPolicyFile.read(
                    config.dataDir().resolve("card-policy.json"))), executorFactory, registry, Clock.systemUTC(),
                    keys.lineage());
            ServerPosture.shareKeys(config, keys, core);
            usage = UsageService.start(config.dataDir(), config.observability(), core, registry);
            tracing = Tracing.create(config.observability());
        } catch (Exception e) {
            close();
            return Future.failedFuture(e.getMessage());
        }
        log.info("{}", config.sizing().describe());
        vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(config.eventLoops())
                .setWorkerPoolSize(config.workerThreads())).withTransport(config.transport().vertx()).build();
        if (config.transport().isNative() != vertx.isNativeTransportEnabled()) {
            Throwable why = vertx.unavailableNativeTransportCause();
            close();
            return Future.failedFuture("the " + config.transport().label() + " transport did not start"
                    + (why == null ? "" : ": " + why) + " (--transport nio avoids it)");
        }
        MetricsSetup.countBlockedThreads(vertx, registry);
        workers = vertx.createSharedWorkerExecutor("gantry-worker", config.workerThreads());
        drain = new Drain(core.timers());
        KeyFileAuditor.watch(keys, core.audit(), config.dataDir(), core.timers());
        HttpVerticle.Handlers handlers = HttpVerticle.Handlers.of(config, core, keys, registry, accessLog,
                workers, drain, this::isReady, tracing, usage);
        GrpcInferenceService grpcService = GrpcWiring.service(config.limits().codec(), core, handlers.metadata(),
                handlers.access(), () -> !drain.draining.get(), drain.inflight, drain.lastRequestNanos, this::isReady,
                registry, workers, VERSION, config.limits().maxBodyBytes(), handlers.bodyMemory());
        return vertx.deployVerticle(() -> {
                    HttpVerticle v = new HttpVerticle(config, handlers);
                    first = first == null ? v : first;
                    return v;
                }, new DeploymentOptions().setInstances(config.eventLoops()))
                .compose(id -> GrpcWiring.start(vertx, config.grpcSettings(), config.grpcPort(), grpcService)
                        .map(g -> {
                            grpc = g.orElse(null);
                            return id;
                        }))
                .map(id -> {
                    deploymentId = id;
                    ServerPosture.logListening(config, VERSION, config.scheme(), port(), adminPort(), keys);
                    settled = core.start().handle((v, e) -> e)
                            .thenCompose(e -> warmUp().thenApply(done -> e))
                            .thenCompose(e -> {
                                loaded = true;
                                if (!drain.draining.get()) {
                                    ServerPosture.logReady(config, config.scheme(), port(),
                                            core.lifecycle().snapshot().values());
                                }
                                return e == null ? CompletableFuture.<Void>completedFuture(null)
                                        : CompletableFuture.<Void>failedFuture(e);
                            });
                    return this;
                })
                .recover(e -> {
                    close();
                    return Future.failedFuture("cannot listen on " + config.host() + ":" + config.port() + ": "
                            + e.getMessage());
                });
    }

    /**
     * The start-up warm-up (StartupWarmup) against this server's own ports; completes, never exceptionally, when
     * it has ended, at the latest a little after its deadline. Not run once the server is stopping.
     */
    private CompletableFuture<Void> warmUp() {
        if (drain.draining.get()) {
            return CompletableFuture.completedFuture(null);
        }
        warmup = StartupWarmup.forServer(vertx, config.host(), port(), adminPort(), config.security().tlsCert(),
                core.lifecycle().snapshot().values()); // never throws: its errors end it with a reason
        return warmup.toCompletionStage().toCompletableFuture()
                .orTimeout(StartupWarmup.LIMITS.deadlineMillis() + WARMUP_SLACK_MILLIS, TimeUnit.MILLISECONDS)
                .handle((r, e) -> {
                    if (e != null) {
                        log.warn("start-up warm-up did not end: {}", e.toString());
                    }
                    return null;
                });
    }

    /** The start-up warm-up's outcome, once it has run (tests). */
    Optional<StartupWarmup.Result> startupWarmup() {
        return warmup == null || !warmup.isComplete() ? Optional.empty() : Optional.of(warmup.result());
    }

    public boolean isReady() {
        return loaded && !drain.draining.get() && core.replication().caughtUpSinceStart();
    }

    /** Completes when every model version selected at start has settled (READY or UNAVAILABLE). */
    public CompletableFuture<Void> modelsSettled() {
        return settled;
    }

    public int port() {
        return first.actualPort();
    }

    /** The port admin routes are served on (the main port unless --admin-port is set). */
    public int adminPort() {
        return first.adminPort();
    }

    /** The model versions' serving states, for tests and tools that watch them. */
    public dev.gantry.core.lifecycle.ModelLifecycle lifecycle() {
        return core.lifecycle();
    }

    /** The gRPC port, or -1 when the gRPC endpoint is off. */
    public int grpcPort() {
        return grpc == null ? GrpcEndpoint.DISABLED : grpc.port();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public KeyStore keys() {
        return keys;
    }

    /**
     * Graceful stop: readiness false, new inference refused, admitted requests answered and written (up to
     * the drain timeout), then everything closed. Safe to call more than once.
     */
    public synchronized CompletableFuture<Void> stop() {
        if (stopped != null) {
            return stopped;
        }
        long start = System.nanoTime();
        log.info("draining: readiness is false, new requests are refused; {} requests in flight", drain.inflight.get());
        stopped = drain.stop(config.drainTimeout(), () -> core.lifecycle().unloadAll(),
                        () -> (grpc == null ? Future.<Void>succeededFuture() : grpc.close())
                                .compose(v -> deploymentId == null ? Future.<Void>succeededFuture()
                                        : vertx.undeploy(deploymentId))
                                .otherwiseEmpty().toCompletionStage(),
                        () -> vertx.close().toCompletionStage())
                // Vert.x completes its close on one of its event-loop threads, as that loop shuts down. Nothing
                // is left to serve by then, but the stores' close (H2's fsyncs) is blocking work, and no event
                // loop thread does any: it runs on a thread of its own.
                .handleAsync((v, e) -> {
                    close();
                    log.info("stopped after draining for {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                    return null;
                }, task -> Thread.ofPlatform().name("gantry-stop").start(task));
        return stopped;
    }

    private void close() {
        for (AutoCloseable c : new AutoCloseable[] {usage, tracing.orElse(null), core, accessLog,
                registry == null ? null : registry::close}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                log.warn("closing {}: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
        if (vertx != null && stopped == null) {
            vertx.close();
        }
    }
}
