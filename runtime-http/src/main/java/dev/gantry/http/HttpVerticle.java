package dev.gantry.http;

import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.health.HealthHandler;
import dev.gantry.http.inference.InferenceHandler;
import dev.gantry.http.inference.MetadataHandler;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** One HTTP server instance on one event loop; several share the port. */
final class HttpVerticle extends VerticleBase {
    private final ServerConfig config;
    private final InferenceHandler inference;
    private final MetadataHandler metadata;
    private final HealthHandler health;
    private final Handler<RoutingContext> metrics;
    private HttpServer server;

    HttpVerticle(ServerConfig config, InferenceHandler inference, MetadataHandler metadata, HealthHandler health,
                 Handler<RoutingContext> metrics) {
        this.config = config;
        this.inference = inference;
        this.metadata = metadata;
        this.health = health;
        this.metrics = metrics;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/v2").handler(health::serverMetadata);
        router.get("/v2/health/live").handler(health::live);
        router.get("/v2/health/ready").handler(health::ready);
        router.get("/v2/models/:model").handler(metadata::metadata);
        router.get("/v2/models/:model/versions/:version").handler(metadata::metadata);
        router.get("/v2/models/:model/ready").handler(metadata::ready);
        router.get("/v2/models/:model/versions/:version/ready").handler(metadata::ready);
        router.post("/v2/models/:model/infer").handler(inference);
        router.post("/v2/models/:model/versions/:version/infer").handler(inference);
        router.get("/metrics").handler(metrics);
        router.route().last().handler(ctx -> ErrorMapper.send(ctx.response(),
                dev.gantry.core.error.GantryException.notFound("no route for " + ctx.request().method() + " "
                        + ctx.request().path())));
        router.errorHandler(405, ctx -> send(ctx, 405, "method " + ctx.request().method() + " is not allowed on "
                + ctx.request().path()));
        router.errorHandler(400, ctx -> send(ctx, 400, "bad request"));
        router.errorHandler(500, ctx -> ErrorMapper.send(ctx, ctx.failure() != null ? ctx.failure()
                : new IllegalStateException("request failed")));

        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                .setIdleTimeout((int) config.idleTimeout().toMillis())
                .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(16 * 1024)
                .setDecompressionSupported(false)
                .setTcpNoDelay(true);
        server = vertx.createHttpServer(options).requestHandler(router);
        return server.listen();
    }

    private static void send(RoutingContext ctx, int status, String message) {
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                    .end(ErrorMapper.body(message));
        }
    }

    int actualPort() {
        return server.actualPort();
    }
}
