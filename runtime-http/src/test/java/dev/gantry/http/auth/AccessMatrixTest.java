package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * Reads the README's "Access by route" table and checks every cell against a running server: every route of
 * the API, called with no header, a malformed header, an unknown, expired or revoked key, each role, and an invoke
 * key limited to another model. "filtered" cells must answer 200 and name no model outside the key's list.
 */
class AccessMatrixTest {
    static final String MODEL = "add_fp32";
    static final String OTHER = "mlp";
    static final String BODY = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
            + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";

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
        tokens.put("invoke, other model", keys.create("narrow", Set.of(Role.INVOKE), Set.of(OTHER), Optional.empty(),
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

    /**
     * The request for a README route like {@code POST /v2/models/{m}/infer}: {m} is the model every credential but
     * the narrow one may use, {v} its version 1, {id} a key id that does not exist (so key routes change nothing).
     */
    static HttpRequest request(String route, String column) {
        String[] parts = route.split(" ", 2);
        String method = parts[0];
        String path = parts[1].replace("{m}", MODEL).replace("{v}", "1").replace("{id}", "000000000000")
                .replace("{r}", "matrix");
        if (path.endsWith("/traffic/at")) {
            path += "?time=" + Instant.now();
        }
        HttpRequest.BodyPublisher body = switch (method) {
            case "GET", "DELETE" -> HttpRequest.BodyPublishers.noBody();
            default -> HttpRequest.BodyPublishers.ofString(path.endsWith("/infer") ? BODY
                    : path.equals("/v1/embeddings") ? "{\"model\":\"" + MODEL + "\",\"input\":\"hi\"}"
                    : path.endsWith("/versions/1") ? "not an onnx file" : "{\"reason\":\"access matrix\"}");
        };
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).method(method, body)
                .timeout(Duration.ofSeconds(60));
        if (!method.equals("GET") && !method.equals("DELETE")) {
            b.header("Content-Type", path.endsWith("/versions/1") ? "application/octet-stream" : "application/json");
        }
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
        int start = lines.indexOf("### Access by route");
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
            String route = cells.get(0).replace("`", "");
            for (int c = 0; c < columns.size(); c++) {
                String expected = cells.get(c + 2);
                HttpResponse<String> r = server.send(request(route, columns.get(c)));
                int status = r.statusCode();
                String actual = status == 401 || status == 403 ? Integer.toString(status) : "allowed";
                if (expected.equals("filtered")) {
                    // Filtered, not empty: the key's own model is listed, the other is not.
                    actual = status == 200 && !r.body().contains(MODEL) && r.body().contains(OTHER) ? "filtered"
                            : status + (r.body().contains(MODEL) ? " naming " + MODEL : " without " + OTHER);
                }
                checked++;
                if (!actual.equals(expected)) {
                    mismatches.add(route + " / " + columns.get(c) + ": README says " + expected + ", server said "
                            + actual + " " + r.body().substring(0, Math.min(200, r.body().length())));
                }
            }
        }
        assertEquals(List.of(), mismatches);
        assertTrue(checked >= 390, "checked " + checked + " cells");
    }

    private static List<String> cells(String row) {
        String[] parts = row.trim().split("(?<!\\\\)\\|");
        return Arrays.stream(parts).skip(1).map(String::trim).toList();
    }
}
