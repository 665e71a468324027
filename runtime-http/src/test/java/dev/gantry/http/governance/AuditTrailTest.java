package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.access.Role;
import dev.gantry.http.cli.AdminCommand;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static dev.gantry.http.governance.GovernanceApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit trail of a scripted run of admin actions by several named keys: the point-in-time traffic query
 * answers exactly the policy in force at every moment of the run, every entry names its actor, the hash chain
 * verifies (through the API and {@code gantry audit verify}), and an entry altered directly in the database is
 * reported by its seq after a restart.
 */
class AuditTrailTest {
    private static final String MODEL = "ledger";
    private static final int ACTIONS = 60;

    @TempDir
    Path dir;

    /** One scripted step: who did what, and the policy in force once it was answered. */
    private record Step(String actor, String action, Instant before, Instant after, Map<Long, Integer> policy) {
    }

    @Test
    void scriptedAdminRun_isAnsweredExactlyByTrafficAt_namesEveryActor_andTamperingIsFoundBySeq() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (long v = 1; v <= 3; v++) {
            repo.copy("classifier", MODEL, v, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        }
        Path data = dir.resolve("data");
        ServerFixture server = ServerFixture.start(ServerFixture.config(repo.root(), data),
                ExecutorFactory.onnxRuntime());
        String admin;
        List<Step> steps = new ArrayList<>();
        Map<String, String> tokens = new LinkedHashMap<>();
        try {
            GovernanceApi api = new GovernanceApi(server.server().port());
            admin = key(server, "carol", Role.ADMIN);
            tokens.put("carol", admin);
            tokens.put("alice", key(server, "alice", Role.DEPLOY));
            tokens.put("bob", key(server, "bob", Role.DEPLOY));
            List<String> deployers = List.of("alice", "bob", "carol");

            JsonNode initial = ok(api.get(admin, "/admin/v1/models/" + MODEL));
            /* The policy of each revision, to predict what a rollback restores. */
            TreeMap<Long, Map<Long, Integer>> revisions = new TreeMap<>();
            revisions.put(initial.path("revision").asLong(), weights(initial.path("policy")));
            Instant start = Instant.now();
            SplittableRandom random = new SplittableRandom(20261126);
            int keysMade = 0;
            while (steps.size() < ACTIONS) {
                String actor = deployers.get(random.nextInt(deployers.size()));
                String token = tokens.get(actor);
                int pick = random.nextInt(10);
                Map<Long, Integer> current = revisions.lastEntry().getValue();
                Instant before = Instant.now();
                if (pick < 5 || revisions.size() < 2) {
                    Map<Long, Integer> next = current;
                    while (next.equals(current)) {
                        next = new LinkedHashMap<>();
                        for (long v = 1; v <= 3; v++) {
                            next.put(v, 1 + random.nextInt(99));
                        }
                    }
                    JsonNode r = ok(api.traffic(token, MODEL, routes(next)));
                    revisions.put(r.path("revision").asLong(), next);
                    steps.add(new Step(actor, "policy.apply", before, Instant.now(), next));
                } else if (pick < 7) {
                    JsonNode r = ok(api.post(token, "/admin/v1/models/" + MODEL + "/rollback", "{}"));
                    Map<Long, Integer> restored = rollbackTarget(revisions);
                    assertEquals(restored, weights(r.path("policy")), r.toString());
                    revisions.put(r.path("revision").asLong(), restored);
                    steps.add(new Step(actor, "policy.rollback", before, Instant.now(), restored));
                } else if (pick < 9) {
                    long v = 1 + random.nextInt(3);
                    ok(api.patchCard(token, MODEL, v, "{\"owner\":\"" + actor + "\",\"description\":\"edit "
                            + steps.size() + "\",\"risk_tier\":\"low\"}"));
                    steps.add(new Step(actor, "card.update", before, Instant.now(), current));
                } else if (steps.size() + 2 <= ACTIONS) {
                    long v = 1 + random.nextInt(3);
                    assertEquals("SUSPENDED", ok(api.transition(token, MODEL, v, "suspend", "step " + steps.size()))
                            .path("stage").asText());
                    steps.add(new Step(actor, "version.suspend", before, Instant.now(), current));
                    Instant beforeResume = Instant.now();
                    assertEquals("APPROVED", ok(api.transition(admin, MODEL, v, "resume", "checked"))
                            .path("stage").asText());
                    steps.add(new Step("carol", "version.resume", beforeResume, Instant.now(), current));
                } else {
                    HttpResponse<String> made = api.post(admin, "/admin/v1/keys", "{\"name\":\"extra-" + keysMade++
                            + "\",\"roles\":[\"invoke\"]}");
                    assertEquals(201, made.statusCode(), made.body());
                    steps.add(new Step("carol", "key.create", before, Instant.now(), current));
                }
            }
            assertTrue(steps.stream().filter(s -> s.action().startsWith("policy.")).count() >= 20,
                    "the script should change traffic often; it did " + steps);

            // Every recorded moment, and midway between one answer and the next request, answers its policy.
            Map<Long, Integer> atStart = revisions.firstEntry().getValue();
            assertEquals(atStart, policyAt(api, admin, start));
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                assertEquals(s.policy(), policyAt(api, admin, s.after()), "after step " + i + " " + s);
                if (i + 1 < steps.size()) {
                    Instant next = steps.get(i + 1).before();
                    Instant mid = s.after().plus(Duration.between(s.after(), next).dividedBy(2));
                    assertEquals(s.policy(), policyAt(api, admin, mid), "between steps " + i + " and " + (i + 1));
                }
            }

            List<JsonNode> entries = audit(api, admin);
            assertFalse(entries.isEmpty());
            for (JsonNode e : entries) {
                assertFalse(e.path("actor").asText().isBlank(), "an entry without an actor: " + e);
            }
            List<String> expected = steps.stream().map(s -> s.action() + " by " + s.actor()).toList();
            List<String> recorded = entries.stream().filter(e -> !e.path("actor").asText().equals("system"))
                    .map(e -> e.path("action").asText() + " by " + e.path("actor").asText()).toList();
            assertEquals(expected, recorded, "the audit trail, in order, of everything the keys did");
            assertTrue(recorded.stream().map(r -> r.substring(r.indexOf(" by ") + 4)).toList()
                    .containsAll(List.of("alice", "bob", "carol")));

            JsonNode verified = ok(api.get(admin, "/admin/v1/audit/verify"));
            assertTrue(verified.path("ok").asBoolean(), verified.toString());
            assertEquals(entries.size(), verified.path("checked").asInt(), verified.toString());
            Cli intact = Cli.auditVerify(server, admin);
            assertEquals(0, intact.exit(), intact.toString());
        } finally {
            server.close();
        }

        long tampered = tamperWithMiddlePolicyEntry(data);

        ServerFixture restarted = ServerFixture.start(ServerFixture.config(repo.root(), data),
                ExecutorFactory.onnxRuntime());
        try {
            GovernanceApi api = new GovernanceApi(restarted.server().port());
            JsonNode verified = ok(api.get(admin, "/admin/v1/audit/verify"));
            assertFalse(verified.path("ok").asBoolean(), verified.toString());
            assertEquals(tampered, verified.path("first_broken").asLong(), verified.toString());
            assertTrue(verified.path("problem").asText().contains("entry " + tampered), verified.toString());
            Cli broken = Cli.auditVerify(restarted, admin);
            assertEquals(1, broken.exit(), broken.toString());
            assertTrue(broken.err().contains("broken at entry " + tampered), broken.toString());
        } finally {
            restarted.close();
        }
    }

    /** {@code gantry audit verify} run in-process against {@code server}: its exit code and output. */
    private record Cli(int exit, String out, String err) {
        static Cli auditVerify(ServerFixture server, String token) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = AdminCommand.run("audit", List.of("verify", "--url", "http://127.0.0.1:" + server.server().port(),
                    "--key", token), Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Cli(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    private static String key(ServerFixture server, String name, Role role) {
        return server.server().keys().create(name, Set.of(role), Set.of(), Optional.empty(), Optional.empty())
                .token();
    }

    /** The policy of the newest earlier revision whose policy differs from the current one. */
    private static Map<Long, Integer> rollbackTarget(TreeMap<Long, Map<Long, Integer>> revisions) {
        Map<Long, Integer> current = revisions.lastEntry().getValue();
        for (Map<Long, Integer> p : revisions.headMap(revisions.lastKey(), false).descendingMap().values()) {
            if (!p.equals(current)) {
                return p;
            }
        }
        throw new AssertionError("nothing to roll back to in " + revisions);
    }

    private static Map<Long, Integer> policyAt(GovernanceApi api, String token, Instant t) {
        return weights(ok(api.get(token, "/admin/v1/models/" + MODEL + "/traffic/at?time=" + t)).path("policy"));
    }

    /** Every audit entry, oldest first. */
    private static List<JsonNode> audit(GovernanceApi api, String token) {
        List<JsonNode> out = new ArrayList<>();
        ok(api.get(token, "/admin/v1/audit?limit=10000")).path("entries").forEach(out::add);
        out.sort((a, b) -> Long.compare(a.path("seq").asLong(), b.path("seq").asLong()));
        return out;
    }

    /** Rewrites the {@code after} of a policy entry from the middle of the trail, in the stopped server's H2. */
    private static long tamperWithMiddlePolicyEntry(Path data) throws Exception {
        String url = "jdbc:h2:file:" + data.toAbsolutePath().resolve("catalog").resolve("gantry");
        try (Connection c = DriverManager.getConnection(url, "gantry", "")) {
            long seq;
            try (PreparedStatement p = c.prepareStatement("SELECT seq FROM audit WHERE action = 'policy.apply' "
                    + "AND actor <> 'system' ORDER BY seq");
                 var rs = p.executeQuery()) {
                List<Long> seqs = new ArrayList<>();
                while (rs.next()) {
                    seqs.add(rs.getLong(1));
                }
                seq = seqs.get(seqs.size() / 2);
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE audit SET after = ? WHERE seq = ?")) {
                p.setString(1, "{\"routes\":\"1=100\",\"reason\":\"nothing to see here\"}");
                p.setLong(2, seq);
                assertEquals(1, p.executeUpdate());
            }
            return seq;
        }
    }

    private static String routes(Map<Long, Integer> weights) {
        long[] pairs = new long[weights.size() * 2];
        int i = 0;
        for (Map.Entry<Long, Integer> e : weights.entrySet()) {
            pairs[i++] = e.getKey();
            pairs[i++] = e.getValue();
        }
        return GovernanceApi.routes(pairs);
    }

    private static Map<Long, Integer> weights(JsonNode policy) {
        Map<Long, Integer> out = new LinkedHashMap<>();
        for (JsonNode r : policy.path("routes")) {
            out.put(Long.parseLong(r.path("version").asText()), r.path("weight").asInt());
        }
        return out;
    }
}
