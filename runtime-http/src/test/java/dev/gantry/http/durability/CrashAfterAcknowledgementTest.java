package dev.gantry.http.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acknowledged means durable: a server process killed with SIGKILL 0, 50, 100 or 250 ms after it answered a
 * state-changing request 2xx has, after a restart on the same directories, every change it acknowledged and an
 * audit trail that verifies and records each of them. The servers are child JVMs of the test's classpath; each
 * restarted server is the one the next trial kills, so N trials cost N + 1 starts.
 *
 * <p>The kinds of change are a table ({@link #ACTIONS}): to cover another one, add an
 * {@link Action} that performs it and checks, after the restart, that it is still there and audited.
 */
class CrashAfterAcknowledgementTest {
    private static final String MODEL = "durable";
    private static final String MODEL_CONFIG = "{\"max_batch_size\": 64, \"dynamic_batching\": {},"
            + " \"version_policy\": {\"all\": {}}}";
    private static final long[] KILL_DELAYS_MS = {0, 50, 100, 250};
    /**
     * Trials per (action, delay). Each costs a server start (seconds on a busy machine), so the default run
     * makes one; {@code -Dgantry.crashTrials=5} runs more. With three or more, the catalogue used to lose
     * acknowledged approvals (and the uploads before them) to H2's recovery after repeated kills; see the note
     * in CatalogDialect for what it was and why the catalogue is append-only now.
     */
    private static final int TRIALS = Integer.getInteger("gantry.crashTrials", 1);
    /**
     * {@code -Dgantry.crashSnapshots=<dir>} copies the catalogue files after each kill to {@code <dir>/trial-N}, as
     * the next server finds them: to replay H2's recovery of a failing trial outside the test.
     */
    private static final String SNAPSHOTS = System.getProperty("gantry.crashSnapshots");

    /** A kind of acknowledged change: performs one (asserting its 2xx) and returns what must survive. */
    interface Action {
        String name();

        Acknowledged perform(Api api, int trial);
    }

    /** One acknowledged change, and how to check after a restart that it is still there and audited. */
    interface Acknowledged {
        /** Fails (naming the change) unless the restarted server still has it and its audit entry. */
        void check(Api api, List<JsonNode> audit);
    }

    /** PUT /admin/v1/models/{m}/traffic: the revision is in the history with its weights, and audited. */
    static final Action TRAFFIC = new Action() {
        @Override
        public String name() {
            return "traffic change";
        }

        @Override
        public Acknowledged perform(Api api, int trial) {
            int w1 = 1 + trial % 98;
            String reason = "trial " + trial;
            JsonNode applied = api.ok(200, api.send("PUT", "/admin/v1/models/" + MODEL + "/traffic",
                    "{\"routes\":[{\"version\":1,\"weight\":" + w1 + "},{\"version\":2,\"weight\":" + (100 - w1)
                            + "}],\"reason\":\"" + reason + "\"}"));
            long revision = applied.path("revision").asLong();
            return (after, audit) -> {
                JsonNode history = after.ok(200, after.send("GET", "/admin/v1/models/" + MODEL + "/traffic/history",
                        null));
                boolean kept = false;
                for (JsonNode r : history.path("revisions")) {
                    if (r.path("revision").asLong() == revision) {
                        assertEquals(reason, r.path("reason").asText(), r.toString());
                        assertTrue(r.path("policy").toString().contains("\"weight\":" + w1), r.toString());
                        kept = true;
                    }
                }
                assertTrue(kept, "acknowledged traffic revision " + revision + " (" + reason + ") is lost: " + history
                        + "\naudited policy revisions: " + audit.stream()
                        .filter(e -> e.path("action").asText().startsWith("policy."))
                        .map(e -> e.path("after").asText()).toList());
                assertTrue(audit.stream().anyMatch(e -> e.path("action").asText().equals("policy.apply")
                                && e.path("target").asText().equals(MODEL)
                                && Bodies.parse(e.path("after").asText()).path("revision").asLong() == revision),
                        "no audit entry for acknowledged traffic revision " + revision);
            };
        }
    };

    /** POST /admin/v1/keys: the key exists and its creation is audited. */
    static final Action KEY = new Action() {
        @Override
        public String name() {
            return "key creation";
        }

        @Override
        public Acknowledged perform(Api api, int trial) {
            JsonNode created = api.ok(201, api.send("POST", "/admin/v1/keys",
                    "{\"name\":\"trial-" + trial + "\",\"roles\":[\"invoke\"]}"));
            return keyCheck(created.path("id").asText());
        }
    };

    /**
     * PUT /admin/v1/models/{m}/versions/{v} with an ONNX file: the version is registered with the artifact's digest,
     * its file is in the repository, it was never approved, and the registration is audited.
     */
    static final Action UPLOAD = new Action() {
        @Override
        public String name() {
            return "upload";
        }

        @Override
        public Acknowledged perform(Api api, int trial) {
            long version = 3 + trial;
            byte[] artifact = mlpArtifact();
            String digest = dev.gantry.store.digest.Sha256.hex(artifact);
            api.ok(201, api.upload("/admin/v1/models/" + MODEL + "/versions/" + version, artifact));
            return (after, audit) -> {
                HttpResponse<String> record = after.send("GET", "/admin/v1/models/" + MODEL + "/versions/" + version,
                        null);
                assertEquals(200, record.statusCode(), "acknowledged upload of version " + version + " is lost: "
                        + record.body());
                JsonNode r = Bodies.parse(record.body());
                assertTrue(r.path("digest").asText().endsWith(digest), "version " + version + " lost its digest: " + r);
                assertTrue(!r.path("stage").asText().equals("APPROVED") && r.path("approvals").isEmpty(),
                        "an upload nobody approved is approved: " + r);
                assertTrue(Files.isRegularFile(after.models().resolve(MODEL).resolve(Long.toString(version))
                        .resolve("model.onnx")), "the acknowledged artifact of version " + version + " is gone");
                assertTrue(audit.stream().anyMatch(e -> e.path("action").asText().equals("version.register")
                                && e.path("target").asText().equals(MODEL + "/" + version)),
                        "no audit entry for the acknowledged upload of version " + version);
            };
        }
    };

    /**
     * POST .../versions/{v}/approve by an approver who neither uploaded nor requested: the version is APPROVED with
     * that approval after the restart, and the approval is audited. Each trial makes its own uploader and approver
     * (sibling keys of the admin, so separation of duties lets the one approve the other's upload), uploads, waits for
     * validation, completes the card and requests approval before the acknowledged step.
     */
    static final Action APPROVAL = new Action() {
        @Override
        public String name() {
            return "approval";
        }

        @Override
        public Acknowledged perform(Api api, int trial) {
            long version = 100 + trial;
            String approverName = "approver-" + trial;
            Api uploader = api.as(api.ok(201, api.send("POST", "/admin/v1/keys",
                    "{\"name\":\"uploader-" + trial + "\",\"roles\":[\"deploy\"]}")).path("token").asText());
            Api approver = api.as(api.ok(201, api.send("POST", "/admin/v1/keys",
                    "{\"name\":\"" + approverName + "\",\"roles\":[\"approve\"]}")).path("token").asText());
            String path = "/admin/v1/models/" + MODEL + "/versions/" + version;
            uploader.ok(201, uploader.upload(path, mlpArtifact()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            String stage;
            while (!(stage = api.ok(200, api.send("GET", path, null)).path("stage").asText()).equals("VALIDATED")) {
                assertTrue(!stage.equals("FAILED") && System.nanoTime() < deadline, "version " + version
                        + " did not validate: " + stage);
                sleep(50);
            }
            uploader.ok(200, uploader.send("PATCH", path + "/card", "{\"owner\":\"team-durability\","
                    + "\"description\":\"mlp\",\"intended_use\":\"crash tests\",\"risk_tier\":\"low\"}"));
            uploader.ok(200, uploader.send("POST", path + "/request-approval", "{\"reason\":\"trial " + trial + "\"}"));
            JsonNode approved = approver.ok(200, approver.send("POST", path + "/approve", "{\"reason\":\"ok\"}"));
            assertEquals("APPROVED", approved.path("stage").asText(), approved.toString());
            return (after, audit) -> {
                JsonNode r = after.ok(200, after.send("GET", path, null));
                assertEquals("APPROVED", r.path("stage").asText(), "acknowledged approval of version " + version
                        + " is lost: " + r + "\naudit entries of the version: " + audit.stream()
                        .filter(e -> e.path("target").asText().equals(MODEL + "/" + version))
                        .map(e -> e.path("seq").asText() + " " + e.path("action").asText()).toList());
                assertEquals(approverName, r.path("approvals").path(0).path("approver").asText(), r.toString());
                assertTrue(audit.stream().anyMatch(e -> e.path("action").asText().equals("approval.approve")
                                && e.path("target").asText().equals(MODEL + "/" + version)
                                && e.path("actor").asText().equals(approverName)),
                        "no audit entry for the acknowledged approval of version " + version);
            };
        }
    };

    static final List<Action> ACTIONS = List.of(TRAFFIC, KEY, UPLOAD, APPROVAL);

    private static byte[] mlpArtifact() {
        try {
            return Files.readAllBytes(ServerFixture.MODELS.resolve("mlp").resolve("1").resolve("model.onnx"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @TempDir
    Path dir;

    @Test
    void sigkillShortlyAfterA2xx_losesNothingAcknowledged_andTheAuditChainVerifies() {
        // a minute per server start is far more than a start takes even on a loaded machine; only a hang exceeds it
        assertTimeoutPreemptively(Duration.ofMinutes(ACTIONS.size() * KILL_DELAYS_MS.length * TRIALS + 1L),
                this::killAfterEachAcknowledgement);
    }

    private void killAfterEachAcknowledgement() throws Exception {
        Path models = dir.resolve("models");
        Path data = dir.resolve("data");
        new TempRepository(models).copy("mlp", MODEL, 1, MODEL_CONFIG).copy("mlp", MODEL, 2, null);
        List<Acknowledged> acknowledged = new ArrayList<>();
        List<String> trials = new ArrayList<>();
        Api api = null;
        int trial = 0;
        long started = System.nanoTime();
        for (Action action : ACTIONS) {
            for (long delay : KILL_DELAYS_MS) {
                for (int t = 0; t < TRIALS; t++, trial++) {
                    try (ChildServer server = ChildServer.start(models, data)) {
                        server.awaitOutput("Gantry ready");
                        api = api == null ? Api.bootstrap(server.port, acknowledged, models) : api.on(server.port);
                        checkAll(api, acknowledged, server);
                        acknowledged.add(action.perform(api, trial));
                        if (delay > 0) {
                            Thread.sleep(delay);
                        }
                        server.process.destroyForcibly();
                        assertTrue(server.process.waitFor(30, TimeUnit.SECONDS), "SIGKILL did not end the server");
                        trials.add(action.name() + " killed " + delay + " ms after its 2xx");
                        snapshot(data, trial);
                    }
                }
            }
        }
        try (ChildServer last = ChildServer.start(models, data)) {
            last.awaitOutput("Gantry ready");
            checkAll(api.on(last.port), acknowledged, last);
            assertEquals(0, last.terminate(), last.output());
        }
        System.out.printf("%d trials (%s), %d acknowledged changes all kept, in %.0f s; catalogue file %d KiB%n",
                trials.size(), String.join("; ", trials.subList(0, Math.min(3, trials.size()))) + "; ...",
                acknowledged.size(), (System.nanoTime() - started) / 1e9,
                Files.size(data.resolve("catalog").resolve("gantry.mv.db")) / 1024);
    }

    private static void snapshot(Path data, int trial) throws java.io.IOException {
        if (SNAPSHOTS == null) {
            return;
        }
        Path to = Path.of(SNAPSHOTS).resolve("trial-" + trial);
        Files.createDirectories(to);
        try (var files = Files.list(data.resolve("catalog"))) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    private static void checkAll(Api api, List<Acknowledged> acknowledged, ChildServer server) {
        JsonNode verified = api.ok(200, api.send("GET", "/admin/v1/audit/verify", null));
        assertTrue(verified.path("ok").asBoolean(), "audit chain broken after a crash: " + verified
                + "\nserver output:\n" + server.output());
        List<JsonNode> audit = new ArrayList<>();
        api.ok(200, api.send("GET", "/admin/v1/audit", null)).path("entries").forEach(audit::add);
        for (Acknowledged a : acknowledged) {
            try {
                a.check(api, audit);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nrestarted server's output:\n" + server.output(), e);
            }
        }
    }

    private static Acknowledged keyCheck(String id) {
        return (after, audit) -> {
            HttpResponse<String> key = after.send("GET", "/admin/v1/keys/" + id, null);
            assertEquals(200, key.statusCode(), "acknowledged key " + id + " is lost: " + key.body());
            assertTrue(audit.stream().anyMatch(e -> e.path("action").asText().equals("key.create")
                    && e.path("target").asText().equals("key:" + id)), "no audit entry for acknowledged key " + id);
        };
    }

    /** The admin API of one server process, as the holder of an admin key. */
    record Api(int port, Optional<String> token, HttpClient client, Path models) {
        /** The first server: makes the admin key every later call uses (itself an acknowledged change). */
        static Api bootstrap(int port, List<Acknowledged> acknowledged, Path models) {
            Api open = new Api(port, Optional.empty(), HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build(), models);
            JsonNode admin = open.ok(201, open.send("POST", "/admin/v1/keys",
                    "{\"name\":\"durability-admin\",\"roles\":[\"admin\"]}"));
            acknowledged.add(keyCheck(admin.path("id").asText()));
            return new Api(port, Optional.of(admin.path("token").asText()), open.client, models);
        }

        /** The same server, called with another key. */
        Api as(String otherToken) {
            return new Api(port, Optional.of(otherToken), client, models);
        }

        Api on(int newPort) {
            return new Api(newPort, token, client, models);
        }

        HttpResponse<String> send(String method, String path, String json) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(30))
                    .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(json));
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            return exchange(b, method + " " + path);
        }

        HttpResponse<String> upload(String path, byte[] artifact) {
            return exchange(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(artifact)), "PUT " + path);
        }

        private HttpResponse<String> exchange(HttpRequest.Builder b, String what) {
            token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
            try {
                return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(what + " failed: " + e, e);
            }
        }

        JsonNode ok(int status, HttpResponse<String> r) {
            assertEquals(status, r.statusCode(), r.request().method() + " " + r.uri() + ": " + r.body());
            return Bodies.parse(r.body());
        }
    }
}
