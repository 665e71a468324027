package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.gantry.http.governance.GovernanceApi.LOW_CARD;
import static dev.gantry.http.governance.GovernanceApi.ok;
import static dev.gantry.http.governance.GovernanceApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server whose catalogue is a PostgreSQL database ({@code --catalog jdbc:postgresql://...}): it uploads,
 * approves, changes traffic and serves, and a new server on the same database (and data directory, for its keys
 * and artifacts) has all of it, the audit chain intact. Nothing of the catalogue is kept in the data directory.
 */
class PostgresCatalogueServerTest {
    @TempDir
    static Path dir;
    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    private static ServerFixture start(TempRepository repo) throws Exception {
        String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
        ServerConfig parsed = ServerConfigParser.parse(List.of("--catalog", url),
                Map.of("GANTRY_CATALOG_USER", "postgres"));
        ServerConfig config = ServerFixture.config(repo.root(), dir.resolve("data"));
        return ServerFixture.start(config.withSecurity(config.security().withCatalog(parsed.security().catalog())),
                ExecutorFactory.onnxRuntime());
    }

    private static String key(ServerFixture server, String name, Role... roles) {
        return server.server().keys().create(name, Set.of(roles), Set.of(), Optional.empty(), Optional.empty())
                .token();
    }

    private static int weight(JsonNode policy, long version) {
        for (JsonNode r : policy.path("routes")) {
            if (r.path("version").asLong() == version) {
                return r.path("weight").asInt();
            }
        }
        return -1;
    }

    @Test
    void serverOnPostgres_uploadsApprovesAndRoutes_andARestartedServerHasItAll() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", "pg", 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        String admin;
        long revision;
        try (ServerFixture server = start(repo)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            admin = key(server, "admin", Role.ADMIN);
            String uploader = key(server, "uploader", Role.DEPLOY);
            String approver = key(server, "approver", Role.APPROVE);

            HttpResponse<String> put = api.upload(uploader, "pg", 2, GovernanceApi.bundled("classifier"));
            assertEquals(201, put.statusCode(), put.body());
            assertEquals("VALIDATED", api.awaitStage(admin, "pg", 2, Set.of("VALIDATED", "FAILED")).path("stage")
                    .asText());
            ok(api.patchCard(uploader, "pg", 2, LOW_CARD));
            ok(api.transition(uploader, "pg", 2, "request-approval", "ready"));
            assertEquals("APPROVED", ok(api.transition(approver, "pg", 2, "approve", "fine")).path("stage").asText());
            JsonNode canary = ok(api.traffic(uploader, "pg", routes(1, 70, 2, 30)));
            revision = canary.path("revision").asLong();
            HttpResponse<String> inferred = api.infer(admin, "pg", 2, 1);
            assertEquals(200, inferred.statusCode(), inferred.body());
        }
        assertFalse(Files.exists(dir.resolve("data").resolve("catalog")), "no embedded catalogue was made");
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT stage FROM model_version WHERE model = 'pg' AND version = 2")) {
            assertTrue(rs.next(), "version 2 is in PostgreSQL");
            assertEquals("APPROVED", rs.getString(1));
        }

        try (ServerFixture server = start(repo)) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            JsonNode v2 = api.version(admin, "pg", 2);
            assertEquals("APPROVED", v2.path("stage").asText(), v2.toString());
            assertEquals("approver", v2.path("approvals").get(0).path("approver").asText(), v2.toString());
            JsonNode traffic = ok(api.get(admin, "/admin/v1/models/pg"));
            assertEquals(revision, traffic.path("revision").asLong(), traffic.toString());
            assertEquals(70, weight(traffic.path("policy"), 1), traffic.toString());
            assertEquals(30, weight(traffic.path("policy"), 2), traffic.toString());
            HttpResponse<String> inferred = api.infer(admin, "pg", 0, 2);
            assertEquals(200, inferred.statusCode(), inferred.body());
            JsonNode verify = ok(api.get(admin, "/admin/v1/audit/verify"));
            assertTrue(verify.path("ok").asBoolean(), verify.toString());
            assertTrue(verify.path("checked").asLong() >= 5, "upload, card, request, approval, policy: " + verify);
        }
    }
}
