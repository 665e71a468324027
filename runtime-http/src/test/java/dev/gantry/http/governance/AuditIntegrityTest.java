package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.cli.KeysCommand;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.catalog.AuditChain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.gantry.http.governance.GovernanceApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An audit trail that resists editing: entries are chained with HMAC-SHA256 under a key outside the database, so
 * an entry edited in the database and rehashed with plain SHA-256 (all an attacker without the key can do) is
 * reported by the verifier; key-file changes made while the server is stopped are audited at the next start;
 * the key file, the key store and the database are private to the server's user.
 */
class AuditIntegrityTest {
    private static final String MODEL = "ledger";

    @TempDir
    Path dir;

    @Test
    void entryEditedAndRehashedWithoutTheKey_isReportedByTheVerifier() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        repo.copy("classifier", MODEL, 2, null);
        Path data = dir.resolve("data");
        try (ServerFixture server = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            for (int i = 1; i <= 4; i++) {
                ok(api.traffic(null, MODEL, GovernanceApi.routes(1, 100 - 10 * i, 2, 10 * i)));
            }
            JsonNode verified = ok(api.get(null, "/admin/v1/audit/verify"));
            assertTrue(verified.path("ok").asBoolean(), verified.toString());
        }
        long edited = editAndRehashPlainly(data);

        try (ServerFixture server = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            JsonNode v = ok(api.get(null, "/admin/v1/audit/verify"));
            assertFalse(v.path("ok").asBoolean(), v.toString());
            assertEquals(edited, v.path("first_broken").asLong(), v.toString());
            assertTrue(v.path("problem").asText().contains("HMAC-SHA256"), v.toString());
        }
    }

    @Test
    void keyCreatedWithGantryKeysWhileTheServerIsStopped_isAuditedAtTheNextStart() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        Path data = dir.resolve("data");
        try (ServerFixture ignored = start(repo, data)) {
            assertTrue(Files.exists(data.resolve("keys.audited.json")));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = KeysCommand.run(List.of("bootstrap", "--name", "night-shift", "--data", data.toString()), Map.of(),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, code);
        String printed = out.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("key (\\w+) .*\\n.*token[^:]*: (\\S+)").matcher(printed);
        assertTrue(m.find(), printed);
        String id = m.group(1);
        String token = m.group(2);

        try (ServerFixture server = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            List<JsonNode> created = new ArrayList<>();
            ok(api.get(token, "/admin/v1/audit?limit=10000")).path("entries").forEach(e -> {
                if (e.path("target").asText().equals("key:" + id)) {
                    created.add(e);
                }
            });
            assertEquals(1, created.size(), created.toString());
            assertEquals("key.create", created.get(0).path("action").asText());
            assertTrue(created.get(0).path("actor").asText().startsWith("local operator"), created.get(0).toString());
            assertTrue(created.get(0).path("after").asText().contains("night-shift"), created.get(0).toString());
        }
        try (ServerFixture server = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            long again = countTarget(ok(api.get(token, "/admin/v1/audit?limit=10000")), "key:" + id);
            assertEquals(1, again, "a change already audited is not audited again at the next start");
        }
    }

    @Test
    void auditKeyKeyStoreAndDatabase_areCreatedReadableByTheServerUserOnly() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        Path data = dir.resolve("data");
        try (ServerFixture server = start(repo, data)) {
            server.server().keys().create("someone", java.util.Set.of(dev.gantry.core.access.Role.ADMIN),
                    java.util.Set.of(), java.util.Optional.empty(), java.util.Optional.empty());
        }
        assertEquals("rw-------", perms(data.resolve("audit.key")));
        assertEquals("rw-------", perms(data.resolve("keys.json")));
        assertEquals("rwx------", perms(data.resolve("catalog")));
        // The directory keeps out whatever H2 creates later (a trace file); the database file itself is 0600.
        assertEquals("rw-------", perms(data.resolve("catalog").resolve("gantry.mv.db")));
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static long countTarget(JsonNode audit, String target) {
        long n = 0;
        for (JsonNode e : audit.path("entries")) {
            n += e.path("target").asText().equals(target) ? 1 : 0;
        }
        return n;
    }

    private static ServerFixture start(TempRepository repo, Path data) {
        return ServerFixture.start(ServerFixture.config(repo.root(), data), ExecutorFactory.onnxRuntime());
    }

    /**
     * As an attacker with the database but not the key: rewrites the {@code after} of a middle policy entry in the
     * stopped server's H2, then recomputes its hash and every later one (and their prev_hash links) with plain
     * SHA-256, as the unkeyed chain was computed. Returns the edited seq.
     */
    private static long editAndRehashPlainly(Path data) throws Exception {
        String url = "jdbc:h2:file:" + data.toAbsolutePath().resolve("catalog").resolve("gantry");
        try (Connection c = DriverManager.getConnection(url, "gantry", "")) {
            c.setAutoCommit(false);
            List<Long> policySeqs = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT seq FROM audit WHERE action = 'policy.apply' ORDER BY seq");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    policySeqs.add(rs.getLong(1));
                }
            }
            long edited = policySeqs.get(policySeqs.size() / 2);
            try (PreparedStatement p = c.prepareStatement("UPDATE audit SET after = ? WHERE seq = ?")) {
                p.setString(1, "{\"routes\":\"1=100\",\"reason\":\"nothing to see here\"}");
                p.setLong(2, edited);
                assertEquals(1, p.executeUpdate());
            }
            String prev = null;
            try (PreparedStatement p = c.prepareStatement("SELECT seq, at, actor, role, action, target, before, after,"
                    + " prev_hash FROM audit WHERE seq >= ? ORDER BY seq");
                 PreparedStatement u = c.prepareStatement("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?")) {
                p.setLong(1, edited);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        long seq = rs.getLong(1);
                        String prevHash = prev == null ? rs.getString(9) : prev;
                        String hash = AuditChain.hash(prevHash, seq, rs.getObject(2, OffsetDateTime.class).toInstant(),
                                rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                                rs.getString(8));
                        u.setString(1, prevHash);
                        u.setString(2, hash);
                        u.setLong(3, seq);
                        u.executeUpdate();
                        prev = hash;
                    }
                }
            }
            c.commit();
            return edited;
        }
    }
}
