package dev.gantry.http.auth;

import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads the README's "Access by route group" table and checks every cell against a running server: each route
 * group, called with no header, a malformed header, an unknown, expired or revoked key, each role, and an
 * invoke key limited to another model.
 */
class AccessMatrixTest {
    static final String BODY = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
            + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";

    /** One request per route group: a representative of the group's routes. */
    static final Map<String, HttpRequest.Builder> REQUESTS = new LinkedHashMap<>();

    @TempDir
    static Path data;
    static ServerFixture server;
    static final Map<String, String> tokens = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime());
        KeyStore keys = server.server().keys();
        tokens.put("invoke", keys.create("caller", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token());
        tokens.put("invoke, other model", keys.create("narrow", Set.of(Role.INVOKE), Set.of("mlp"), Optional.empty(),
                Optional.empty()).token());
        tokens.put("deploy", keys.create("deployer", Set.of(Role.DEPLOY), Set.of(), Optional.empty(), Optional.empty()).token());
        tokens.put("approve", keys.create("approver", Set.of(Role.APPROVE), Set.of(), Optional.empty(), Optional.empty()).token());
        tokens.put("admin", keys.create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty()).token());
        KeyStore.Created revoked = keys.create("gone", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty());
        keys.revoke(revoked.key().id());
        tokens.put("revoked key", revoked.token());
        KeyStore.Created expiring = keys.create("brief", Set.of(Role.ADMIN), Set.of(),
                Optional.of(Instant.now().plusMillis(300)), Optional.empty());
        tokens.put("expired key", expiring.token());
        tokens.put("unknown key", "gantry_0123456789ab_notARealSecretButWellFormedAAAAAAAAAAAAAAAAAAA");
        tokens.put("malformed header", null);
        tokens.put("no header", null);
        while (Instant.now().isBefore(expiring.key().expires().orElseThrow())) {
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpRequest request(String group, String column) {
        HttpRequest.Builder b = switch (group) {
            case "inference" -> HttpRequest.newBuilder(server.uri("/v2/models/add_fp32/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY));
            case "metadata" -> HttpRequest.newBuilder(server.uri("/v2/models/add_fp32")).GET();
            case "embeddings" -> HttpRequest.newBuilder(server.uri("/v1/embeddings"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"minilm\",\"input\":\"hi\"}"));
            case "openai models" -> HttpRequest.newBuilder(server.uri("/v1/models/minilm")).GET();
            case "health" -> HttpRequest.newBuilder(server.uri("/v2/health/ready")).GET();
            case "metrics" -> HttpRequest.newBuilder(server.uri("/metrics")).GET();
            case "keys" -> HttpRequest.newBuilder(server.uri("/admin/v1/keys")).GET();
            case "admin read" -> HttpRequest.newBuilder(server.uri("/admin/v1/models/add_fp32")).GET();
            case "deploy" -> HttpRequest.newBuilder(server.uri("/admin/v1/models/add_fp32/versions/1/load"))
                    .POST(HttpRequest.BodyPublishers.noBody());
            case "approval" -> HttpRequest.newBuilder(server.uri("/admin/v1/models/add_fp32/versions/1/reject"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"access matrix\"}"));
            default -> throw new AssertionError("the README names route group '" + group
                    + "' that this test has no request for");
        };
        b.timeout(Duration.ofSeconds(30));
        switch (column) {
            case "no header" -> {
            }
            case "malformed header" -> b.header("Authorization", "Token abc");
            default -> b.header("Authorization", "Bearer " + tokens.get(column));
        }
        return b.build();
    }

    @Test
    void everyCellOfTheReadmeAccessTable_matchesTheServer() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
        int start = lines.indexOf("### Access by route group");
        assertTrue(start >= 0, "README has no access table");
        List<String> table = new ArrayList<>();
        for (int i = start + 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("|")) {
                table.add(l);
            } else if (!table.isEmpty()) {
                break;
            }
        }
        List<String> header = cells(table.get(0));
        List<String> columns = header.subList(2, header.size());
        assertEquals(Set.copyOf(tokens.keySet()), Set.copyOf(columns), "README columns vs credentials tested");
        List<String> mismatches = new ArrayList<>();
        int checked = 0;
        for (String row : table.subList(2, table.size())) {
            List<String> cells = cells(row);
            String group = cells.get(0);
            for (int c = 0; c < columns.size(); c++) {
                String expected = cells.get(c + 2);
                int status = server.send(request(group, columns.get(c))).statusCode();
                String actual = status == 401 || status == 403 ? Integer.toString(status) : "allowed";
                checked++;
                if (!actual.equals(expected)) {
                    mismatches.add(group + " / " + columns.get(c) + ": README says " + expected + ", server said "
                            + status);
                }
            }
        }
        assertEquals(List.of(), mismatches);
        assertTrue(checked >= 80, "checked " + checked + " cells");
    }

    private static List<String> cells(String row) {
        String[] parts = row.trim().split("(?<!\\\\)\\|");
        return Arrays.stream(parts).skip(1).map(String::trim).toList();
    }
}
