package dev.gantry.http.grpc;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.grpc.server.GrpcProtocol;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;

import java.util.concurrent.TimeUnit;

/**
 * The gRPC port: one HTTP/2 server per event loop on the server's own Vert.x instance (the same event loops as
 * HTTP), each serving {@link GrpcInferenceService}. Cleartext HTTP/2 (prior knowledge, as gRPC clients speak
 * it), or TLS with ALPN when the server has a certificate.
 */
public final class GrpcEndpoint {
    /** Port value that turns the gRPC endpoint off. */
    public static final int DISABLED = -1;
    static final long SHUTDOWN_GRACE_MS = 5_000;
    /** HTTP/2 flow-control window per stream and connection: a 600 KB tensor goes in one round trip. */
    private static final int WINDOW_BYTES = 4 << 20;

    private final Vertx vertx;
    private final String deploymentId;
    private final int port;

    private GrpcEndpoint(Vertx vertx, String deploymentId, int port) {
        this.vertx = vertx;
        this.deploymentId = deploymentId;
        this.port = port;
    }

    /**
     * What the endpoint listens with: the server's host, event loops, limits and TLS files.
     *
     * @param maxMessageBytes the largest message accepted (the HTTP body limit)
     */
    public record Settings(String host, int eventLoops, long maxMessageBytes, java.time.Duration idleTimeout,
                           int maxHeaderBytes, java.util.Optional<java.nio.file.Path> tlsCert,
                           java.util.Optional<java.nio.file.Path> tlsKey) {
    }

    /** Listens on {@code port} (0 picks a free one) with one server per event loop. */
    public static Future<GrpcEndpoint> start(Vertx vertx, Settings config, int port,
                                             GrpcInferenceService service) {
        int[] bound = {-1};
        return vertx.deployVerticle(() -> new PortVerticle(config, port, service, bound),
                        new DeploymentOptions().setInstances(config.eventLoops()))
                .map(id -> new GrpcEndpoint(vertx, id, bound[0]));
    }

    public int port() {
        return port;
    }

    /** Stops accepting calls; calls in progress get up to the grace period to finish. */
    public Future<Void> close() {
        return vertx.undeploy(deploymentId).otherwiseEmpty();
    }

    /** The server of one event loop. */
    private static final class PortVerticle extends VerticleBase {
        private final Settings config;
        private final int port;
        private final GrpcInferenceService service;
        private final int[] bound;
        private HttpServer server;

        PortVerticle(Settings config, int port, GrpcInferenceService service, int[] bound) {
            this.config = config;
            this.port = port;
            this.service = service;
            this.bound = bound;
        }

        @Override
        public Future<?> start() {
            GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions()
                    .removeEnabledProtocol(GrpcProtocol.TRANSCODING)
                    .removeEnabledProtocol(GrpcProtocol.WEB)
                    .removeEnabledProtocol(GrpcProtocol.WEB_TEXT)
                    .setMaxMessageSize(config.maxMessageBytes()));
            service.bind(grpc);
            // Every instance listens on the same port and Vert.x shares it between them (0 too: one free port).
            HttpServerOptions options = new HttpServerOptions()
                    .setHost(config.host())
                    .setPort(port)
                    .setIdleTimeout((int) config.idleTimeout().toMillis())
                    .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                    .setTcpNoDelay(true)
                    .setHttp2ClearTextEnabled(true)
                    .setHttp2ConnectionWindowSize(WINDOW_BYTES)
                    .setInitialSettings(new Http2Settings()
                            .setInitialWindowSize(WINDOW_BYTES)
                            .setMaxHeaderListSize(config.maxHeaderBytes()));
            if (config.tlsCert().isPresent()) {
                options.setSsl(true).setUseAlpn(true).setKeyCertOptions(new PemKeyCertOptions()
                        .setCertPath(config.tlsCert().get().toString())
                        .setKeyPath(config.tlsKey().orElseThrow().toString()));
            }
            server = vertx.createHttpServer(options).requestHandler(grpc);
            return server.listen().onSuccess(s -> {
                synchronized (bound) {
                    if (bound[0] <= 0) {
                        bound[0] = s.actualPort();
                    }
                }
            });
        }

        @Override
        public Future<?> stop() {
            return server == null ? Future.succeededFuture()
                    : server.shutdown(SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS);
        }
    }
}
