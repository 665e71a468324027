package dev.gantry.http;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.runtime.ServingRuntime;
import dev.gantry.http.tracing.Tracing;
import dev.gantry.http.usage.UsageHandler;
import dev.gantry.http.usage.UsageService;
import java.util.Optional;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.http.auth.RateLimiter;
import dev.gantry.http.inference.BodyLimits;
import dev.gantry.http.inference.BodyMemory;
import dev.gantry.http.inference.DeprecationHeaders;
import dev.gantry.http.inference.OipCodec;
import dev.gantry.http.openai.EmbeddingsHandler;
import dev.gantry.http.openai.ModelsHandler;
import dev.gantry.core.text.TextEmbedder;
import dev.gantry.http.inference.SharedMemoryHandler;
import dev.gantry.http.metrics.ScrapeHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.WorkerExecutor;
import java.util.function.BooleanSupplier;
import dev.gantry.http.admin.AdminBodies;
import dev.gantry.http.admin.AuditHandler;
import dev.gantry.http.admin.CatalogHandler;
import dev.gantry.http.admin.DeploymentsHandler;
import dev.gantry.http.admin.KeysHandler;
import dev.gantry.http.admin.ReleaseHandler;
import dev.gantry.http.admin.RepositoryActions;
import dev.gantry.http.admin.RepositoryHandler;
import dev.gantry.http.admin.RolloutsHandler;
import dev.gantry.http.admin.UploadHandler;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.BrowserGuard;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.health.HealthHandler;
import dev.gantry.http.inference.InferenceHandler;
import dev.gantry.http.inference.MetadataHandler;
import dev.gantry.http.logging.AccessLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The HTTP servers of one event loop: the main port and, when configured, a separate admin port. */
final class HttpVerticle extends VerticleBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpVerticle.class);
    /** What every verticle instance shares; built once by {@link GantryServer}. */
    record Handlers(InferenceHandler inference, MetadataHandler metadata, HealthHandler health,
                    Handler<RoutingContext> metrics, KeysHandler keys, DeploymentsHandler deployments,
                    RepositoryHandler repository, UploadHandler uploads, ReleaseHandler releases, AuditHandler audit,
                    CatalogHandler catalog, BrowserGuard browsers, AccessControl access, AccessLog accessLog, java.util.function.BooleanSupplier draining,
                    java.util.concurrent.atomic.AtomicLong lastRequestNanos, Handler<RoutingContext> tracing,
                    UsageHandler usage, SharedMemoryHandler sharedMemory, EmbeddingsHandler embeddings,
                    ModelsHandler openAiModels, RolloutsHandler rollouts,
                    dev.gantry.http.admin.ServerHandler server, BodyMemory bodyMemory) {

        /** The handlers of a server over {@code core}, sharing its drain state and worker pool. */
        static Handlers of(ServerConfig config, ServingRuntime core, KeyStore keys, PrometheusMeterRegistry registry,
                           AccessLog accessLog, WorkerExecutor workers, Drain drain, BooleanSupplier ready,
                           Optional<Tracing> tracing, UsageService usage) {
            var releases = core.releases();
            var sharedMemory = dev.gantry.core.sharedmemory.SharedMemoryRegistry.system();
            var bodyMemory = config.limits().bodyMemory();
            bodyMemory.bindTo(registry);
            log.info("{}", bodyMemory.describe());
            var bodyLimits = new BodyLimits(config.limits().maxBodyBytes(), config.limits().bodyTimeout(),
                    bodyMemory);
            var deprecation = new DeprecationHeaders(releases);
            var embedder = new TextEmbedder(core.repository(), core.router());
            var inference = new InferenceHandler(core.router(), new OipCodec(config.limits().codec()), bodyLimits, workers,
                    () -> !drain.draining.get(), drain.inflight, deprecation, usage.recorder(), sharedMemory,
                    /* accessLogged= */ accessLog != null);
            var access = new AccessControl(keys, new RateLimiter(config.security().rateLimit(),
                    config.security().rateBurst(), System::nanoTime), config.security().openHealth(),
                    config.metricsOpen());
            return new Handlers(inference, new MetadataHandler(core.repository(), core.router()),
                    new HealthHandler(GantryServer.VERSION, ready), new ScrapeHandler(registry, workers),
                    new KeysHandler(keys, workers, core.audit()),
                    new DeploymentsHandler(core.repository(), core.deployments(), workers),
                    new RepositoryHandler(new RepositoryActions(core.repository(), core.deployments()), workers),
                    new UploadHandler(releases), new ReleaseHandler(releases, workers),
                    new AuditHandler(core.audit(), releases, workers), new CatalogHandler(releases, workers),
                    new BrowserGuard(config.crossSite().allowedOrigins(), config.crossSite().allowedHosts(),
                            keys::isEmpty),
                    access, accessLog, drain.draining::get, drain.lastRequestNanos,
                    tracing.map(Tracing::handler).orElse(null),
                    new UsageHandler(usage.recorder(), keys, workers, config.observability().clock()),
                    new SharedMemoryHandler(sharedMemory),
                    new EmbeddingsHandler(embedder, access, bodyLimits, workers, () -> !drain.draining.get(),
                            drain.inflight, deprecation::headers, usage.recorder()),
                    new ModelsHandler(embedder, access),
                    new RolloutsHandler(core.repository(), core.rollouts(), workers),
                    new dev.gantry.http.admin.ServerHandler(config.sizing(), core.replication()::status, bodyMemory),
                    bodyMemory);
        }
    }

    private final ServerConfig config;
    private final Handlers h;
    private final ConnectionGuard[] guard = new ConnectionGuard[1];
    private final List<HttpServer> servers = new ArrayList<>();

    HttpVerticle(ServerConfig config, Handlers handlers) {
        this.config = config;
        this.h = handlers;
    }

    @Override
    public Future<?> start() {
        dev.gantry.core.scheduling.DeferredWakeups.install(new BurstWakeups(context));
        guard[0] = new ConnectionGuard(vertx, config.limits().headerTimeout().toMillis(),
                config.limits().bodyTimeout().toMillis(), h.draining(),
                h.lastRequestNanos());
        boolean separateAdmin = config.security().adminPort().isPresent();
        Router main = baseRouter();
        mountData(main);
        if (!separateAdmin) {
            mountAdmin(main);
        }
        finish(main);
        Future<HttpServer> mainServer = listen(inferenceFirst(main), config.port());
        if (!separateAdmin) {
            return mainServer;
        }
        Router admin = baseRouter();
        admin.get("/v2/health/live").handler(h.access().guard(RouteGroup.HEALTH)).handler(h.health()::live);
        mountAdmin(admin);
        finish(admin);
        return mainServer.compose(s -> listen(admin::handle, config.security().adminPort().getAsInt()));
    }

    private Router baseRouter() {
        Router router = Router.router(vertx);
        for (Handler<RoutingContext> front : frontHandlers()) {
            router.route().handler(front);
        }
        return router;
    }

    /** What runs in front of every route, in order. */
    private List<Handler<RoutingContext>> frontHandlers() {
        List<Handler<RoutingContext>> front = new ArrayList<>();
        front.add(guard[0]::onRequest);
        if (h.accessLog() != null) {
            front.add(h.accessLog().handler());
        }
        front.add(h.browsers());
        if (h.tracing() != null) {
            front.add(h.tracing());
        }
        return front;
    }

    /**
     * The main port's handler: inference requests straight through the handlers of the inference routes, in
     * the order {@link #baseRouter} and {@link #mountInference} give them; behind a router of their own while the
     * access log or tracing is on (both read the matched route).
     */
    private InferFastPath inferenceFirst(Router main) {
        if (h.accessLog() != null || h.tracing() != null) {
            Router inferenceOnly = baseRouter();
            mountInference(inferenceOnly);
            finish(inferenceOnly);
            return InferFastPath.routed(inferenceOnly, main);
        }
        List<Handler<RoutingContext>> chain = frontHandlers();
        chain.addAll(inferenceRoute());
        return InferFastPath.direct(chain, main, vertx);
    }

    private void mountData(Router router) {
        Handler<RoutingContext> health = h.access().guard(RouteGroup.HEALTH);
        Handler<RoutingContext> metadata = h.access().guard(RouteGroup.METADATA);
        Handler<RoutingContext> inference = h.access().guard(RouteGroup.INFERENCE);
        router.get("/v2").handler(health).handler(h.health()::serverMetadata);
        router.get("/v2/health/live").handler(health).handler(h.health()::live);
        router.get("/v2/health/ready").handler(health).handler(h.health()::ready);
        // Before /v2/models/:model: "stats" here is the statistics extension, never a model name (a model named
        // "stats" is reached by its versioned routes).
        router.get("/v2/models/stats").handler(metadata).handler(h.metadata()::statistics);
        router.get("/v2/models/:model/stats").handler(metadata).handler(h.metadata()::statistics);
        router.get("/v2/models/:model/versions/:version/stats").handler(metadata).handler(h.metadata()::statistics);
        router.get("/v2/models/:model/config").handler(metadata).handler(h.metadata()::config);
        router.get("/v2/models/:model/versions/:version/config").handler(metadata).handler(h.metadata()::config);
        router.get("/v2/models/:model").handler(metadata).handler(h.metadata()::metadata);
        router.get("/v2/models/:model/versions/:version").handler(metadata).handler(h.metadata()::metadata);
        router.get("/v2/models/:model/ready").handler(metadata).handler(h.metadata()::ready);
        router.get("/v2/models/:model/versions/:version/ready").handler(metadata).handler(h.metadata()::ready);
        mountInference(router);
        router.get("/metrics").handler(h.access().guard(RouteGroup.METRICS)).handler(h.metrics());
        // OpenAI-compatible routes check access themselves (the model is named in the body) and answer in
        // OpenAI's error shape.
        router.post("/v1/embeddings").handler(h.embeddings());
        router.get("/v1/models").handler(h.openAiModels()::list);
        router.get("/v1/models/:model").handler(h.openAiModels()::get);
        SharedMemoryHandler shm = h.sharedMemory();
        router.post("/v2/systemsharedmemory/region/:region/register").handler(inference).handler(shm::register);
        router.get("/v2/systemsharedmemory/status").handler(inference).handler(shm::status);
        router.get("/v2/systemsharedmemory/region/:region/status").handler(inference).handler(shm::status);
        router.post("/v2/systemsharedmemory/unregister").handler(inference).handler(shm::unregister);
        router.post("/v2/systemsharedmemory/region/:region/unregister").handler(inference).handler(shm::unregister);
        router.route("/v2/cudasharedmemory/*").handler(inference).handler(shm::cuda);
    }

    /**
     * The two inference routes: mounted in the full router and, with the access log or tracing on, alone in the
     * router {@link InferFastPath} uses.
     */
    private void mountInference(Router router) {
        List<Handler<RoutingContext>> handlers = inferenceRoute();
        for (String path : List.of("/v2/models/:model/infer", "/v2/models/:model/versions/:version/infer")) {
            var route = router.post(path);
            handlers.forEach(route::handler);
        }
    }

    /** The handlers of an inference route, in order: access control, then inference. */
    private List<Handler<RoutingContext>> inferenceRoute() {
        return List.of(h.access().guard(RouteGroup.INFERENCE), h.inference());
    }

    private void mountAdmin(Router router) {
        Handler<RoutingContext> bodyTimeout = AdminBodies.bodyTimeout(config.limits().bodyTimeout());
        router.route("/admin/*").handler(bodyTimeout);
        router.route("/v2/repository/*").handler(bodyTimeout);
        Handler<RoutingContext> keys = h.access().guard(RouteGroup.KEYS);
        router.get("/admin/v1/keys").handler(keys).handler(h.keys()::list);
        router.post("/admin/v1/keys").handler(keys).handler(h.keys()::create);
        router.get("/admin/v1/keys/:id").handler(keys).handler(h.keys()::get);
        router.post("/admin/v1/keys/:id/rotate").handler(keys).handler(h.keys()::rotate);
        router.post("/admin/v1/keys/:id/revoke").handler(keys).handler(h.keys()::revoke);
        router.delete("/admin/v1/keys/:id").handler(keys).handler(h.keys()::revoke);
        Handler<RoutingContext> read = h.access().guard(RouteGroup.ADMIN_READ);
        Handler<RoutingContext> deploy = h.access().guard(RouteGroup.DEPLOY);
        DeploymentsHandler d = h.deployments();
        router.get("/admin/v1/server").handler(read).handler(h.server()::send);
        router.get("/admin/v1/models").handler(read).handler(d::list);
        router.get("/admin/v1/models/:model").handler(read).handler(d::get);
        router.get("/admin/v1/models/:model/traffic/history").handler(read).handler(d::history);
        router.post("/admin/v1/models/:model/versions/:version/load").handler(deploy).handler(d::load);
        router.post("/admin/v1/models/:model/versions/:version/unload").handler(deploy).handler(d::unload);
        router.put("/admin/v1/models/:model/traffic").handler(deploy).handler(d::traffic);
        router.post("/admin/v1/models/:model/rollback").handler(deploy).handler(d::rollback);
        RolloutsHandler ro = h.rollouts();
        router.post("/admin/v1/models/:model/rollouts").handler(deploy).handler(ro::start);
        router.get("/admin/v1/models/:model/rollouts").handler(read).handler(ro::list);
        router.get("/admin/v1/models/:model/rollouts/:id").handler(read).handler(ro::get);
        for (String action : List.of("pause", "resume", "promote", "abort")) {
            router.post("/admin/v1/models/:model/rollouts/:id/" + action).handler(deploy)
                    .handler(ctx -> ro.act(ctx, action));
        }
        Handler<RoutingContext> approval = h.access().guard(RouteGroup.APPROVAL);
        ReleaseHandler g = h.releases();
        router.put("/admin/v1/models/:model/versions/:version").handler(deploy).handler(h.uploads()::upload);
        router.get("/admin/v1/models/:model/versions/:version").handler(read).handler(g::version);
        router.get("/admin/v1/models/:model/versions/:version/card").handler(read).handler(g::card);
        router.patch("/admin/v1/models/:model/versions/:version/card").handler(deploy).handler(g::patchCard);
        for (String action : List.of("request-approval", "deprecate", "suspend", "resume")) {
            router.post("/admin/v1/models/:model/versions/:version/" + action).handler(deploy)
                    .handler(ctx -> g.transition(ctx, action));
        }
        for (String action : List.of("approve", "reject")) {
            router.post("/admin/v1/models/:model/versions/:version/" + action).handler(approval)
                    .handler(ctx -> g.transition(ctx, action));
        }
        router.get("/admin/v1/models/:model/traffic/at").handler(read).handler(h.audit()::trafficAt);
        router.get("/admin/v1/catalog").handler(read).handler(h.catalog()::catalog);
        router.get("/admin/v1/audit").handler(read).handler(h.audit()::audit);
        router.get("/admin/v1/audit/verify").handler(read).handler(h.audit()::verify);
        router.get("/admin/v1/usage").handler(read).handler(h.usage()::get);
        RepositoryHandler repo = h.repository();
        router.post("/v2/repository/index").handler(read).handler(repo::index);
        router.post("/v2/repository/models/:model/load").handler(deploy).handler(repo::load);
        router.post("/v2/repository/models/:model/unload").handler(deploy).handler(repo::unload);
    }

    private static void finish(Router router) {
        router.route().last().handler(ctx -> ErrorMapper.send(ctx.response(),
                GantryException.notFound("no route for " + ctx.request().method() + " " + ctx.request().path())));
        router.errorHandler(405, ctx -> send(ctx, 405, "method " + ctx.request().method() + " is not allowed on "
                + ctx.request().path()));
        router.errorHandler(400, ctx -> send(ctx, 400, "bad request"));
        router.errorHandler(500, ctx -> ErrorMapper.send(ctx, ctx.failure() != null ? ctx.failure()
                : new IllegalStateException("request failed")));
    }

    private Future<HttpServer> listen(Handler<io.vertx.core.http.HttpServerRequest> router, int port) {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.host())
                .setPort(port)
                .setIdleTimeout((int) config.limits().idleTimeout().toMillis())
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxInitialLineLength(Math.min(8192, config.limits().maxHeaderBytes()))
                .setMaxHeaderSize(config.limits().maxHeaderBytes())
                .setDecompressionSupported(false)
                // HTTP/1.1 only: with cleartext HTTP/2 upgrade on (Vert.x's default), a connection is only
                // handed to the connection handler once its first request head is decoded, so the guard
                // against slow clients would never see a connection that sends nothing.
                .setHttp2ClearTextEnabled(false)
                // No WebSocket routes: with either WebSocket compression on (Vert.x's default), every connection's
                // pipeline gets Netty's extension handler, which inspects each request and response for an upgrade.
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false)
                // Every handler writes its response on the connection's event loop (work done elsewhere comes
                // back through the request's context), so Vert.x may write straight to the channel instead of
                // through its cross-thread message queue and locks; a write from another thread would throw.
                .setStrictThreadMode(true)
                .setTcpNoDelay(true);
        if (config.security().tlsCert().isPresent()) {
            options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertPath(config.security().tlsCert().get().toString())
                    .setKeyPath(config.security().tlsKey().orElseThrow().toString()));
        }
        HttpServer server = vertx.createHttpServer(options)
                .connectionHandler(guard[0]::onConnection)
                .invalidRequestHandler(HttpVerticle::invalidRequest)
                .requestHandler(router);
        servers.add(server);
        return server.listen();
    }

    /** A request the HTTP codec could not parse: 414/431 for oversize heads, else 400; never a 5xx. */
    private static void invalidRequest(io.vertx.core.http.HttpServerRequest request) {
        Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
        int status = cause instanceof io.netty.handler.codec.http.TooLongHttpLineException ? 414
                : cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException ? 431 : 400;
        String message = switch (status) {
            case 414 -> "request line too long";
            case 431 -> "request headers too large (--max-header-bytes)";
            default -> "malformed HTTP request" + (cause == null || cause.getMessage() == null ? ""
                    : ": " + cause.getMessage());
        };
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .putHeader("Connection", "close").end(ErrorMapper.body(message));
    }

    /** A JSON error answer with {@code status}, unless the response has already ended (the routers' error pages). */
    static void send(RoutingContext ctx, int status, String message) {
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                    .end(ErrorMapper.body(message));
        }
    }

    /** Stops accepting connections, lets requests in progress finish (up to the grace period), then closes. */
    @Override
    public Future<?> stop() {
        List<Future<Void>> all = new ArrayList<>();
        for (HttpServer s : servers) {
            all.add(s.shutdown(SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS));
        }
        return Future.join(all);
    }

    static final long SHUTDOWN_GRACE_MS = 5_000;

    int actualPort() {
        return servers.get(0).actualPort();
    }

    int adminPort() {
        return servers.size() > 1 ? servers.get(1).actualPort() : servers.get(0).actualPort();
    }
}
