package dev.gantry.http.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.core.access.Role;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.keys.SharedKeys;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.cli.KeysCommand;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.store.catalog.CatalogLocation;
import dev.gantry.store.catalog.CatalogStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers on one PostgreSQL catalogue share one set of API keys: a key created, rotated or revoked through
 * one is in force on the other at once (the change feed; the times are printed), each change is in the one audit
 * chain, concurrent changes are decided by the database, the bootstrap token makes one key however many servers
 * start with it, and {@code gantry keys} changes the keys in the database.
 */
class SharedKeysOnPostgresTest {
    /** Generous: a change arrives in milliseconds (NOTIFY); the safety check alone is 2 s. */
    private static final long PROPAGATION_BOUND_MS = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @TempDir
    static Path dir;
    private static EmbeddedPostgres postgres;
    private static ServerFixture a;
    private static ServerFixture b;
    private static String root;

    @BeforeAll
    static void startPostgresAndTwoServers() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        Files.createDirectories(dir.resolve("models"));
        a = start("a");
        b = start("b");
        root = a.server().keys().create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty())
                .token();
        await(() -> status(b, "GET", "/admin/v1/keys", root), 200, "root key on B");
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {b, a, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static String url() {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
    }

    /** A server on the shared database, with a data directory of its own and the one audit key. */
    private static ServerFixture start(String name) throws Exception {
        ServerConfig parsed = ServerConfigParser.parse(List.of("--catalog", url()),
                Map.of("GANTRY_CATALOG_USER", "postgres"));
        ServerConfig config = ServerFixture.config(dir.resolve("models"), dir.resolve("data-" + name));
        return ServerFixture.start(config.withSecurity(config.security().withCatalog(parsed.security().catalog())
                .withAuditKeyFile(dir.resolve("audit.key"))), ExecutorFactory.onnxRuntime());
    }

    private static HttpResponse<String> send(ServerFixture server, String method, String path, String token,
                                             String body) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.server().port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        try {
            return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int status(ServerFixture server, String method, String path, String token) {
        return send(server, method, path, token, null).statusCode();
    }

    private static JsonNode json(HttpResponse<String> r, int expected) throws Exception {
        assertEquals(expected, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** Polls until {@code probe} answers {@code expected}; returns the milliseconds it took. */
    private static long await(java.util.function.IntSupplier probe, int expected, String what) throws Exception {
        long start = System.nanoTime();
        int last = -1;
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(PROPAGATION_BOUND_MS)) {
            last = probe.getAsInt();
            if (last == expected) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
            Thread.sleep(2);
        }
        throw new AssertionError(what + ": not " + expected + " within " + PROPAGATION_BOUND_MS + " ms; last " + last);
    }

    private static JsonNode createThrough(ServerFixture server, String name) throws Exception {
        return json(send(server, "POST", "/admin/v1/keys", root, "{\"name\":\"" + name + "\",\"roles\":[\"admin\"]}"),
                201);
    }

    @Test
    void keyCreatedThroughA_authenticatesOnB_withinASecond() throws Exception {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String token = createThrough(a, "made-on-a-" + i).path("token").asText();
            millis.add(await(() -> status(b, "GET", "/admin/v1/keys", token), 200, "new key on B"));
        }
        System.out.println("key created through A authenticates on B after (ms, from A's 201 to B's 200): " + millis);
    }

    @Test
    void keyRevokedThroughB_isRefusedOnA_withinASecond() throws Exception {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            JsonNode k = createThrough(a, "revoked-on-b-" + i);
            String token = k.path("token").asText();
            await(() -> status(b, "GET", "/admin/v1/keys", token), 200, "new key on B");
            assertEquals(200, status(a, "GET", "/admin/v1/keys", token));
            json(send(b, "POST", "/admin/v1/keys/" + k.path("id").asText() + "/revoke", root, null), 200);
            millis.add(await(() -> status(a, "GET", "/admin/v1/keys", token), 401, "revoked key on A"));
            assertTrue(send(a, "GET", "/admin/v1/keys", token, null).body().contains("was revoked"));
        }
        System.out.println("key revoked through B refused on A after (ms, from B's 200 to A's 401): " + millis);
    }

    @Test
    void keyRotatedThroughA_oldTokenRefusedAndNewAcceptedOnB_withinASecond() throws Exception {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonNode k = createThrough(a, "rotated-on-a-" + i);
            String old = k.path("token").asText();
            await(() -> status(b, "GET", "/admin/v1/keys", old), 200, "new key on B");
            String rotated = json(send(a, "POST", "/admin/v1/keys/" + k.path("id").asText() + "/rotate", root, null),
                    200).path("token").asText();
            millis.add(await(() -> status(b, "GET", "/admin/v1/keys", old), 401, "old token on B"));
            assertEquals(200, status(b, "GET", "/admin/v1/keys", rotated));
        }
        System.out.println("key rotated through A: old token refused on B after (ms, from A's 200 to B's 401): "
                + millis);
    }

    @Test
    void sameNameCreatedThroughAAndBAtOnce_oneIs201_theOtherIs409() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                String name = "raced-" + round;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<HttpResponse<String>>> results = new ArrayList<>();
                for (ServerFixture server : List.of(a, b)) {
                    results.add(pool.submit(() -> {
                        go.await();
                        return send(server, "POST", "/admin/v1/keys", root,
                                "{\"name\":\"" + name + "\",\"roles\":[\"invoke\"]}");
                    }));
                }
                go.countDown();
                List<Integer> statuses = new ArrayList<>();
                for (Future<HttpResponse<String>> f : results) {
                    statuses.add(f.get().statusCode());
                }
                statuses.sort(null);
                assertEquals(List.of(201, 409), statuses, name);
                try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
                     Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM api_key WHERE name = '" + name + "'")) {
                    rs.next();
                    assertEquals(1, rs.getInt(1), name);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRevokedKeysName_isNotReusedThroughTheOtherServer() throws Exception {
        JsonNode k = createThrough(a, "retired-name");
        json(send(a, "POST", "/admin/v1/keys/" + k.path("id").asText() + "/revoke", root, null), 200);
        HttpResponse<String> again = send(b, "POST", "/admin/v1/keys", root,
                "{\"name\":\"retired-name\",\"roles\":[\"invoke\"]}");
        assertEquals(409, again.statusCode(), again.body());
        assertTrue(again.body().contains("never reused"), again.body());
    }

    @Test
    void aKeyWithARoleThisServerDoesNotKnow_isKeptWhenOtherKeysChange() throws Exception {
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO api_key (id, name, seq, roles, models, created_at, secret_sha256) SELECT "
                    + "'0000000f00f0', 'from-newer-gantry', MAX(seq) + 1, 'auditor', '', CURRENT_TIMESTAMP, '"
                    + "ab".repeat(32) + "' FROM api_key");
        }
        JsonNode k = createThrough(a, "beside-newer");
        json(send(b, "POST", "/admin/v1/keys/" + k.path("id").asText() + "/revoke", root, null), 200);
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT roles FROM api_key WHERE id = '0000000f00f0'")) {
            assertTrue(rs.next(), "still there");
            assertEquals("auditor", rs.getString(1));
        }
    }

    @Test
    void keyChangesThroughBothServers_areInTheOneAuditChain() throws Exception {
        JsonNode k = createThrough(a, "audited");
        String id = k.path("id").asText();
        json(send(b, "POST", "/admin/v1/keys/" + id + "/revoke", root, null), 200);
        JsonNode entries = json(send(b, "GET", "/admin/v1/audit?limit=1000", root, null), 200).path("entries");
        List<String> actions = new ArrayList<>();
        for (JsonNode e : entries) {
            if (e.path("target").asText().equals("key:" + id)) {
                actions.add(e.path("action").asText() + " by " + e.path("actor").asText());
            }
        }
        assertEquals(List.of("key.revoke by root", "key.create by root"), actions);
        for (ServerFixture server : List.of(a, b)) {
            JsonNode verify = json(send(server, "GET", "/admin/v1/audit/verify", root, null), 200);
            assertTrue(verify.path("ok").asBoolean(), verify.toString());
        }
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT revoked_at FROM api_key WHERE id = '" + id + "'")) {
            assertTrue(rs.next(), "the key is a row of the shared database");
            assertTrue(rs.getObject(1) != null, "revoked there");
        }
        assertTrue(Files.notExists(dir.resolve("data-a").resolve("keys.json")), "no key file on a shared catalogue");
    }

    @Test
    void gantryKeysCli_withTheCatalogue_changesTheSharedKeys() throws Exception {
        Map<String, String> env = Map.of("GANTRY_CATALOG_USER", "postgres");
        String out = cli(env, "create", "--name", "cli-bot", "--role", "admin").get(0);
        Matcher m = Pattern.compile("key ([0-9a-f]{12}) .*\\n.*token \\(shown once; store it now\\): (\\S+)")
                .matcher(out);
        assertTrue(m.find(), out);
        String id = m.group(1);
        String token = m.group(2);
        long onA = await(() -> status(a, "GET", "/admin/v1/keys", token), 200, "CLI key on A");
        long onB = await(() -> status(b, "GET", "/admin/v1/keys", token), 200, "CLI key on B");
        assertTrue(cli(env, "list").get(0).contains("cli-bot"));
        assertTrue(cli(env, "revoke", id).get(0).contains("revoked " + id));
        long refused = await(() -> status(a, "GET", "/admin/v1/keys", token), 401, "CLI-revoked key on A");
        System.out.println("gantry keys create in force on A after " + onA + " ms, on B after " + onB
                + " ms; revoke refused on A after " + refused + " ms");
        JsonNode entries = json(send(a, "GET", "/admin/v1/audit?limit=1000", root, null), 200).path("entries");
        List<String> actions = new ArrayList<>();
        entries.forEach(e -> {
            if (e.path("target").asText().equals("key:" + id)) {
                actions.add(e.path("action").asText() + " by " + e.path("actor").asText());
            }
        });
        assertEquals(List.of("key.revoke by local operator (gantry keys)", "key.create by local operator (gantry keys)"),
                actions);
        assertTrue(Files.notExists(dir.resolve("cli-data").resolve("keys.json")), "the CLI wrote no key file");
        // Without the servers' audit key the command refuses rather than make a key of its own.
        ByteArrayOutputStream noKey = new ByteArrayOutputStream();
        assertEquals(1, KeysCommand.run(new ArrayList<>(List.of("list", "--catalog", url(), "--data",
                dir.resolve("no-key-data").toString())), env, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(noKey, true, StandardCharsets.UTF_8)));
        assertTrue(noKey.toString(StandardCharsets.UTF_8).contains("audit key file"), noKey.toString());
        assertTrue(Files.notExists(dir.resolve("no-key-data").resolve("audit.key")));
        // The password never comes from the command line: a URL carrying one is refused.
        List<String> refusedUrl = new ArrayList<>(List.of("list", "--catalog", url() + "?password=secret"));
        assertEquals(1, KeysCommand.run(refusedUrl, env, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream())));
    }

    /** Runs {@code gantry keys} against the shared catalogue; returns its output and error output. */
    private static List<String> cli(Map<String, String> env, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--catalog", url(), "--audit-key-file", dir.resolve("audit.key").toString(),
                "--data", dir.resolve("cli-data").toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = KeysCommand.run(all, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8);
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, o + e);
        return List.of(o, e);
    }

    /** A new, empty database on the embedded server. */
    private static CatalogLocation freshDatabase() throws Exception {
        String name = "boot" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return CatalogLocation.postgres("jdbc:postgresql://localhost:" + postgres.getPort() + "/" + name,
                Optional.of("postgres"), Optional.empty());
    }

    /** What a server does at start with GANTRY_BOOTSTRAP_ADMIN_TOKEN (ServerPosture), on its own catalogue. */
    private static KeyStore startWithBootstrap(CatalogLocation db, String token, List<CatalogStore> opened) {
        CatalogStore catalog = CatalogStore.postgres(db, Clock.systemUTC(), dir.resolve("audit.key"));
        synchronized (opened) {
            opened.add(catalog);
        }
        KeyStore keys = KeyStore.shared(Clock.systemUTC());
        keys.bind(SharedKeys.over(catalog));
        keys.bootstrapFrom(token, "admin");
        return keys;
    }

    @Test
    void bootstrapToken_onThreeServersStartingTogetherOnAnEmptyDatabase_makesOneKey_acceptedByAll()
            throws Exception {
        CatalogLocation db = freshDatabase();
        String token = "gantry_0123456789ab_" + "s".repeat(40);
        List<CatalogStore> opened = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<KeyStore>> servers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                servers.add(pool.submit(() -> {
                    go.await();
                    return startWithBootstrap(db, token, opened);
                }));
            }
            go.countDown();
            for (Future<KeyStore> f : servers) {
                KeyStore keys = f.get(60, TimeUnit.SECONDS);
                assertInstanceOf(KeyStore.Verification.Valid.class, keys.verify(token));
                assertEquals(1, keys.list().size());
            }
            int entries = 0;
            for (var e : opened.get(0).audit(dev.gantry.store.catalog.AuditQuery.all())) {
                entries += e.target().equals("key:0123456789ab") ? 1 : 0;
            }
            assertEquals(1, entries, "one key.create entry");
        } finally {
            pool.shutdownNow();
            opened.forEach(CatalogStore::close);
        }
    }

    @Test
    void bootstrapToken_givenToTwoServerProcessesStartingTogether_makesOneKey_acceptedByBoth() throws Exception {
        CatalogLocation db = freshDatabase();
        String token = "gantry_00000000beef_" + "b".repeat(40);
        Map<String, String> env = Map.of("GANTRY_CATALOG_USER", "postgres", "GANTRY_BOOTSTRAP_ADMIN_TOKEN", token);
        List<String> flags = List.of("--catalog", db.jdbcUrl().orElseThrow(), "--audit-key-file",
                dir.resolve("audit-boot.key").toString());
        try (ChildServer one = ChildServer.start(dir.resolve("models"), dir.resolve("boot-1"), flags, env);
             ChildServer two = ChildServer.start(dir.resolve("models"), dir.resolve("boot-2"), flags, env)) {
            for (ChildServer server : List.of(one, two)) {
                server.awaitOutput("Gantry ready");
                HttpResponse<String> keys = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                + server.port + "/admin/v1/keys")).header("Authorization", "Bearer " + token).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode listed = json(keys, 200).path("keys");
                assertEquals(1, listed.size(), listed.toString());
                assertEquals("00000000beef", listed.get(0).path("id").asText());
            }
            long registered = java.util.stream.Stream.of(one.output(), two.output())
                    .filter(o -> o.contains("registered the first admin key")).count();
            assertEquals(1, registered, "one server registered it:\n" + one.output() + "\n" + two.output());
        }
    }

    @Test
    void bootstrapToken_whoseIdHoldsAnotherSecret_isRefused() throws Exception {
        CatalogLocation db = freshDatabase();
        List<CatalogStore> opened = new ArrayList<>();
        try {
            startWithBootstrap(db, "gantry_0123456789ab_" + "s".repeat(40), opened);
            GantryException e = assertThrows(GantryException.class,
                    () -> startWithBootstrap(db, "gantry_0123456789ab_" + "t".repeat(40), opened));
            assertTrue(e.getMessage().contains("another secret"), e.getMessage());
        } finally {
            opened.forEach(CatalogStore::close);
        }
    }
}
