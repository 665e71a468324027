package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.json.Json;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code GET /admin/v1/server} over HTTP: a server started from flags shows the values derived for this machine,
 * and a flag replaces the derived value it names.
 */
class ServerSizingEndpointTest {
    @TempDir
    static Path dir;
    static ServerFixture server;
    static MachineDefaults derived;

    @BeforeAll
    static void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        derived = MachineDefaults.of(Machine.current());
        ServerConfig config = ServerConfigParser.parse(List.of("--port", "0", "--grpc-port", "-1", "--models",
                models.toString(), "--data", dir.resolve("data").toString(), "--access-log", "off",
                "--event-loops", Integer.toString(derived.eventLoops() + 2), "--max-body-memory", "3000000"), Map.of());
        server = ServerFixture.start(config, ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode sizing() throws Exception {
        HttpResponse<String> r = server.get("/admin/v1/server");
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void serverSizing_showsTheDerivedValuesOfThisMachine() throws Exception {
        JsonNode root = sizing();
        assertEquals(Runtime.getRuntime().availableProcessors(), root.path("machine").path("cores").asInt());
        JsonNode s = root.path("sizing");
        assertEquals(derived.workerThreads(), s.path("worker_threads").path("value").asInt());
        assertEquals(false, s.path("worker_threads").path("overridden").asBoolean());
        assertEquals(derived.intraOpThreads(), s.path("intra_op_threads").path("value").asInt());
        assertEquals(derived.interOpThreads(), s.path("inter_op_threads").path("value").asInt());
        assertEquals(derived.heapBytes(), s.path("heap_max_bytes").path("derived").asLong());
        // the test JVM has no memory-access option: what Netty chose by itself on this JDK
        BufferAccess netty = BufferAccess.current();
        assertEquals(netty.unsafe(), s.path("buffer_access").path("unsafe").asBoolean());
        assertEquals(netty.unsafe(), s.path("buffer_access").path("reason").isNull());
    }

    @Test
    void serverSizing_showsTheBodyMemoryBudgetSetByItsFlag() throws Exception {
        JsonNode budget = sizing().path("sizing").path("max_body_memory_bytes");
        assertEquals(3_000_000, budget.path("value").asLong());
        assertEquals(Runtime.getRuntime().maxMemory() / 3, budget.path("derived").asLong(), 1.0);
        assertEquals(true, budget.path("overridden").asBoolean());
    }

    @Test
    void serverSizing_showsAFlagOverridingTheDerivedEventLoops() throws Exception {
        JsonNode loops = sizing().path("sizing").path("event_loops");
        assertEquals(derived.eventLoops() + 2, loops.path("value").asInt());
        assertEquals(derived.eventLoops(), loops.path("derived").asInt());
        assertEquals(true, loops.path("overridden").asBoolean());
    }
}
