package dev.gantry.http.testing;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.http.GantryServer;
import dev.gantry.http.ServerConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A real Gantry server on a free loopback port, and a real HTTP client to call it. */
public final class ServerFixture implements AutoCloseable {
    public static final Path MODELS = Path.of("..", "models");
    private static ServerFixture shared;

    private final GantryServer server;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private ServerFixture(GantryServer server) {
        this.server = server;
    }

    /** The server on the bundled models, started once and shared by every test class that only reads. */
    public static synchronized ServerFixture shared() {
        if (shared == null) {
            shared = start(config(MODELS, Path.of("target", "test-data", "shared")), ExecutorFactory.onnxRuntime());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> shared.close()));
        }
        return shared;
    }

    /**
     * Where test servers remember sandbox verdicts: shared by every server of the build, so each sample
     * artifact's first run happens in a sandbox process once per build rather than once per test server.
     */
    public static final Path SANDBOX_VERDICTS = Path.of("target", "test-data", "sandbox-verdicts");

    public static ServerConfig config(Path models, Path data) {
        return ServerConfig.defaults().withPort(0).withGrpcPort(0).withModels(models).withDataDir(data)
                .withSecurity(ServerConfig.Security.defaults().withAccessLog("off"))
                .withFaults(new ServerConfig.Faults(true, java.util.Optional.of(SANDBOX_VERDICTS.toAbsolutePath())));
    }

    /** Starts a server and waits until every model has settled. */
    public static ServerFixture start(ServerConfig config, ExecutorFactory factory) {
        GantryServer server = GantryServer.create(config, factory);
        try {
            server.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            server.modelsSettled().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("server did not start: " + e, e);
        }
        return new ServerFixture(server);
    }

    public GantryServer server() {
        return server;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    public HttpResponse<String> postJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    public HttpResponse<byte[]> post(String path, byte[] body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Sends {@code request} as raw bytes to the server on {@code port} and returns everything it answers, up to
     * the connection's close: the request should say "Connection: close".
     */
    public static String raw(int port, String request) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            java.io.OutputStream out = s.getOutputStream();
            out.write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public HttpClient client() {
        return client;
    }

    /** How often Vert.x saw an event loop blocked since this server started. */
    public double blockedEventLoops() {
        var c = server.registry().find(MetricNames.EVENT_LOOP_BLOCKED.meterName()).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() {
        server.stop().orTimeout(60, TimeUnit.SECONDS).join();
    }
}
