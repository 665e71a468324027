package dev.gantry.bench.ceiling;

import dev.gantry.http.sizing.NetworkTransport;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;

/**
 * The HTTP ceiling: a plain Vert.x server that reads each inference request's body to its end and answers a
 * canned body of the size the real model gives (no parsing, no model, no routing, no headers built per
 * request). Whatever a server does with a request costs at least this much on the same machine, so a Gantry
 * arm's throughput divided by this arm's is its share of the ceiling. It runs on the transport Gantry derives by
 * default ({@link NetworkTransport#derived()}: io_uring where the kernel allows it, else epoll where it loads), so
 * Gantry's transport does not count as a gain against it.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar dev.gantry.bench.ceiling.CeilingServer --port 8091
 * [--host 127.0.0.1] [--event-loops 1]}. Answers {@code POST /v2/models/{model}/infer} with the MLP's answer
 * (eight FP32 values, OIP v2 JSON) and {@code GET /v2/health/ready} with 200; anything else gets 404. Prints
 * {@code CeilingServer ready on http://H:P} when listening.
 */
public final class CeilingServer {
    /** The MLP's answer to one row, byte for byte the shape Gantry sends. */
    static final Buffer MLP_ANSWER = Buffer.buffer(("{\"model_name\":\"mlp\",\"model_version\":\"1\",\"outputs\":"
            + "[{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[0.0123,-0.2345,0.3456,0.4567,"
            + "-0.5678,0.6789,0.7891,-0.8912]}]}").getBytes(StandardCharsets.US_ASCII));
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final CharSequence LENGTH = HttpHeaders.createOptimized(Integer.toString(MLP_ANSWER.length()));

    private CeilingServer() {
    }

    public static void main(String[] args) {
        String host = "127.0.0.1";
        int port = 8091;
        int eventLoops = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--event-loops" -> eventLoops = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; see the javadoc of "
                        + CeilingServer.class.getName());
            }
        }
        NetworkTransport transport = NetworkTransport.derived();
        Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(eventLoops))
                .withTransport(transport.vertx()).build();
        if (transport.isNative() != vertx.isNativeTransportEnabled()) {
            throw new IllegalStateException("the " + transport.label() + " transport did not start: "
                    + vertx.unavailableNativeTransportCause());
        }
        String bindHost = host;
        int bindPort = port;
        /* One server instance per event loop, as Gantry and the direct-call server deploy theirs. */
        vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                return vertx.createHttpServer().requestHandler(CeilingServer::handle).listen(bindPort, bindHost);
            }
        }, new DeploymentOptions().setInstances(eventLoops)).toCompletionStage().toCompletableFuture().join();
        System.out.println("CeilingServer ready on http://" + host + ":" + port + " with " + eventLoops
                + " event loop(s), transport " + transport.label());
    }

    static void handle(HttpServerRequest req) {
        if (req.method() == HttpMethod.POST && req.path().endsWith("/infer")) {
            req.endHandler(v -> req.response().putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                    .putHeader(HttpHeaders.CONTENT_LENGTH, LENGTH).end(MLP_ANSWER));
            req.handler(chunk -> { });
        } else if (req.method() == HttpMethod.GET && req.path().equals("/v2/health/ready")) {
            req.response().end();
        } else {
            req.response().setStatusCode(404).end();
        }
    }
}
