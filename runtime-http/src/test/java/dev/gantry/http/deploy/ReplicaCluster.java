package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.S3Server;
import dev.gantry.http.testing.ServerFixture;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Gantry server processes (child JVMs) sharing one embedded PostgreSQL catalogue and one S3 bucket (s3proxy over
 * a directory), each with a data directory and a local models directory of its own, all started with the same
 * audit key and the same bootstrap admin token ({@code GANTRY_BOOTSTRAP_ADMIN_TOKEN}), as replicas behind a load
 * balancer are. A replica killed by a test is started again on the same directories by {@link #ensureRunning}.
 */
final class ReplicaCluster implements AutoCloseable {
    /** The admin key every replica registers from its environment while it has no key. */
    static final String ADMIN_TOKEN = "gantry_c1a5e7000001_replica-cluster-admin-secret-0123456789";

    private final Path root;
    private final EmbeddedPostgres postgres;
    private final S3Server s3;
    private final List<Replica> replicas = new ArrayList<>();

    private ReplicaCluster(Path root, EmbeddedPostgres postgres, S3Server s3) {
        this.root = root;
        this.postgres = postgres;
        this.s3 = s3;
    }

    /**
     * Starts PostgreSQL, the S3 server and {@code size} replicas whose models directories each hold the bundled
     * classifier's {@code versions} under every name of {@code models} (the first replica starts alone: the
     * very first start of an empty catalogue adopts what is on disk; the others then start together).
     */
    static ReplicaCluster start(Path root, int size, Map<String, long[]> models) throws Exception {
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        S3Server s3;
        try {
            s3 = S3Server.start(root.resolve("bucket"));
        } catch (Exception e) {
            postgres.close();
            throw e;
        }
        ReplicaCluster cluster = new ReplicaCluster(root, postgres, s3);
        try {
            Files.writeString(root.resolve("s3.properties"), "access_key_id=" + S3Server.ACCESS_KEY
                    + "\nsecret_access_key=" + S3Server.SECRET_KEY + "\n");
            for (int i = 1; i <= size; i++) {
                Replica r = new Replica(cluster, "replica-" + i, root.resolve("replica-" + i));
                for (Map.Entry<String, long[]> m : models.entrySet()) {
                    for (long v : m.getValue()) {
                        classifier(r.models, m.getKey(), v);
                    }
                }
                cluster.replicas.add(r);
            }
            cluster.replicas.get(0).start();
            cluster.replicas.get(0).awaitReady();
            cluster.ensureRunning();
            return cluster;
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** Copies the bundled classifier's version {@code version} as {@code name}/{@code version}. */
    private static void classifier(Path models, String name, long version) throws IOException {
        Path dir = models.resolve(name).resolve(Long.toString(version));
        Files.createDirectories(dir);
        Files.copy(ServerFixture.MODELS.resolve("classifier").resolve(Long.toString(version)).resolve("model.onnx"),
                dir.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(ServerFixture.MODELS.resolve("classifier").resolve("config.json"),
                models.resolve(name).resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
    }

    Replica replica(int index) {
        return replicas.get(index);
    }

    List<Replica> replicas() {
        return List.copyOf(replicas);
    }

    /** Starts every replica that is not running (together) and waits until each says it is ready. */
    void ensureRunning() throws Exception {
        List<Replica> started = new ArrayList<>();
        for (Replica r : replicas) {
            if (!r.alive()) {
                r.start();
                started.add(r);
            }
        }
        for (Replica r : started) {
            r.awaitReady();
        }
    }

    private List<String> flags(Replica r) {
        return List.of("--catalog", "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres",
                "--audit-key-file", root.resolve("audit.key").toString(),
                "--artifacts", "s3://" + S3Server.BUCKET + "/cluster",
                "--s3-endpoint", s3.settings("cluster").endpoint().orElseThrow().toString(),
                "--s3-path-style", "true",
                "--s3-credentials-file", root.resolve("s3.properties").toString());
    }

    @Override
    public void close() throws Exception {
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (Replica r : replicas) {
            stops.add(CompletableFuture.runAsync(() -> {
                try {
                    r.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        s3.close();
        postgres.close();
    }

    /** One server process of the cluster, on directories that outlive the process. */
    static final class Replica {
        final String name;
        final Path models;
        final Path data;
        private final ReplicaCluster cluster;
        private volatile ChildServer server;

        private Replica(ReplicaCluster cluster, String name, Path dir) {
            this.cluster = cluster;
            this.name = name;
            this.models = dir.resolve("models");
            this.data = dir.resolve("data");
        }

        private void start() throws IOException {
            server = ChildServer.start(models, data, cluster.flags(this),
                    Map.of("GANTRY_CATALOG_USER", "postgres", "GANTRY_BOOTSTRAP_ADMIN_TOKEN", ADMIN_TOKEN));
        }

        private void awaitReady() throws InterruptedException {
            server.awaitOutput("Gantry ready");
        }

        boolean alive() {
            ChildServer s = server;
            return s != null && s.process.isAlive();
        }

        int port() {
            return server.port;
        }

        /** kill -9, then waits until the process is gone and keeps its output in target/replica-cluster. */
        void kill() throws InterruptedException {
            ChildServer s = server;
            if (s != null && s.process.isAlive()) {
                s.process.destroyForcibly();
                if (!s.process.waitFor(30, TimeUnit.SECONDS)) {
                    throw new AssertionError(name + " outlived SIGKILL by 30 s");
                }
                try {
                    Path logs = Files.createDirectories(Path.of("target", "replica-cluster"));
                    Files.writeString(logs.resolve(name + "-pid" + s.process.pid() + ".log"), s.output());
                } catch (IOException e) {
                    System.err.println("cannot keep " + name + "'s output: " + e);
                }
            }
        }

        String output() {
            ChildServer s = server;
            return s == null ? "(not started)" : s.output();
        }

        /** This replica's API as the admin, through a client of its own. */
        Api admin() {
            return as(ADMIN_TOKEN);
        }

        Api as(String token) {
            return new Api(this, "http://127.0.0.1:" + port(), token, newClient());
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** The HTTP API of one replica as the holder of one key; failures to connect throw UncheckedIOException. */
    record Api(Replica replica, String base, String token, HttpClient client) {
        HttpResponse<String> get(String path) {
            return send(builder(path).GET());
        }

        HttpResponse<String> post(String path, String json) {
            return send(builder(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)));
        }

        HttpResponse<String> put(String path, String json) {
            return send(builder(path).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(json)));
        }

        HttpResponse<String> patch(String path, String json) {
            return send(builder(path).header("Content-Type", "application/json")
                    .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
        }

        HttpResponse<String> upload(String path, byte[] artifact) {
            return send(builder(path).header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(artifact)));
        }

        HttpResponse<String> traffic(String model, String json) {
            return put("/admin/v1/models/" + model + "/traffic", json);
        }

        /** An unversioned (version 0) or pinned classifier request with one row made from {@code seed}. */
        HttpResponse<String> infer(String model, long version, long seed) {
            return send(inferRequest(model, version, seed));
        }

        /** As {@link #infer} but a failure to connect or read is thrown as it is, for the load test to count. */
        HttpResponse<String> tryInfer(String model, long seed) throws IOException, InterruptedException {
            return client.send(inferRequest(model, 0, seed).build(), HttpResponse.BodyHandlers.ofString());
        }

        private HttpRequest.Builder inferRequest(String model, long version, long seed) {
            String path = version == 0 ? "/v2/models/" + model + "/infer"
                    : "/v2/models/" + model + "/versions/" + version + "/infer";
            return builder(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Bodies.fp32Request("features", new long[] {1, 16},
                            Bodies.randomFloats(16, seed), null)));
        }

        /** GET /admin/v1/models/{m}, which must answer 200. */
        JsonNode model(String model) {
            return ok(get("/admin/v1/models/" + model));
        }

        /** The revision of {@code model}'s traffic policy in force on this replica. */
        long revision(String model) {
            return model(model).path("revision").asLong();
        }

        /** {@code replication.background_lease} of GET /admin/v1/server. */
        boolean holdsLease() {
            return ok(get("/admin/v1/server")).path("replication").path("background_lease").asBoolean();
        }

        private HttpRequest.Builder builder(String path) {
            return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token);
        }

        private HttpResponse<String> send(HttpRequest.Builder b) {
            HttpRequest request = b.build();
            try {
                return client.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(request.method() + " " + request.uri() + " on " + replica + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    static JsonNode ok(HttpResponse<String> r) {
        return status(200, r);
    }

    static JsonNode status(int expected, HttpResponse<String> r) {
        assertEquals(expected, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + r.body());
        return Bodies.parse(r.body());
    }

    /**
     * Polls {@code probe} every {@code pollMillis} until {@code done} accepts its result; returns the nanoseconds
     * it took; fails naming {@code what} and the last result after {@code timeout}.
     */
    static <T> long await(String what, Duration timeout, long pollMillis, Supplier<T> probe, Predicate<T> done)
            throws InterruptedException {
        long start = System.nanoTime();
        T last = null;
        while (System.nanoTime() - start < timeout.toNanos()) {
            last = probe.get();
            if (done.test(last)) {
                return System.nanoTime() - start;
            }
            Thread.sleep(pollMillis);
        }
        throw new AssertionError(what + " did not happen within " + timeout.toSeconds() + " s; last: " + last);
    }
}
