package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.access.Role;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Triton's system shared memory extension: regions registered by key, offset and size; inputs read from and
 * outputs written to them give the same bytes as inline ones; every use is bounds-checked; a caller only sees
 * and uses the regions it registered; CUDA shared memory is refused.
 */
class SharedMemoryTest {
    static final Path SHM = Path.of("/dev/shm");
    @TempDir
    static Path dir;
    static ServerFixture server;
    static String alice;
    static String bob;
    static final List<Path> created = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isDirectory(SHM) && Files.isWritable(SHM), "needs POSIX shared memory at /dev/shm");
        new TempRepository(dir.resolve("models")).copy("mlp", "mlp", 1, "{\"max_batch_size\": 8}");
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        alice = server.server().keys().create("alice", Set.of(Role.INVOKE), Set.of(), Optional.empty(),
                Optional.empty()).token();
        bob = server.server().keys().create("bob", Set.of(Role.INVOKE), Set.of(), Optional.empty(),
                Optional.empty()).token();
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        for (Path p : created) {
            Files.deleteIfExists(p);
        }
    }

    /** A new POSIX shared-memory object of {@code size} bytes holding {@code content} at {@code at}; its key. */
    static String shm(int size, byte[] content, int at) throws IOException {
        String key = "gantry-test-" + UUID.randomUUID();
        Path file = SHM.resolve(key);
        created.add(file);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.allocate(size), 0);
            c.write(ByteBuffer.wrap(content), at);
        }
        return "/" + key;
    }

    static byte[] read(String key, int offset, int length) throws IOException {
        byte[] all = Files.readAllBytes(SHM.resolve(key.substring(1)));
        return Arrays.copyOfRange(all, offset, offset + length);
    }

    static HttpResponse<String> call(String token, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        return server.send(b.build());
    }

    static HttpResponse<String> register(String token, String name, String key, long offset, long size) {
        return call(token, "POST", "/v2/systemsharedmemory/region/" + name + "/register",
                "{\"key\":\"" + key + "\",\"offset\":" + offset + ",\"byte_size\":" + size + "}");
    }

    static byte[] floatsLE(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f) {
            b.putFloat(x);
        }
        return b.array();
    }

    static String infer(String token, String inputParameters, String outputParameters) {
        return "{\"inputs\":[{\"name\":\"features\",\"shape\":[2,64],\"datatype\":\"FP32\",\"parameters\":"
                + inputParameters + "}],\"outputs\":[{\"name\":\"scores\",\"parameters\":" + outputParameters + "}]}";
    }

    @Test
    void sharedMemoryInputAndOutput_giveTheSameBytesAsInline() throws IOException {
        float[] features = Bodies.randomFloats(128, 21);
        long[] headerLength = new long[1];
        byte[] inline = Bodies.fp32Binary("features", new long[] {2, 64}, features,
                "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]", headerLength);
        HttpResponse<byte[]> expected = server.post("/v2/models/mlp/infer", inline, Map.of("Authorization",
                "Bearer " + alice, "Inference-Header-Content-Length", Long.toString(headerLength[0])));
        assertEquals(200, expected.statusCode());
        int json = Integer.parseInt(expected.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        byte[] expectedScores = Arrays.copyOfRange(expected.body(), json, expected.body().length);

        String in = shm(4096, floatsLE(features), 100);
        String out = shm(4096, new byte[0], 0);
        assertEquals(200, register(alice, "in", in, 100, 512).statusCode());
        assertEquals(200, register(alice, "out", out, 1024, 1024).statusCode());
        HttpResponse<String> r = call(alice, "POST", "/v2/models/mlp/infer", infer(alice,
                "{\"shared_memory_region\":\"in\",\"shared_memory_byte_size\":512}",
                "{\"shared_memory_region\":\"out\",\"shared_memory_byte_size\":1024,\"shared_memory_offset\":64}"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode scores = Bodies.parse(r.body()).get("outputs").get(0);
        assertEquals("out", scores.get("parameters").get("shared_memory_region").textValue());
        assertEquals(64, scores.get("parameters").get("shared_memory_byte_size").intValue());
        assertTrue(!scores.has("data"), "the output is in the region, not the body");
        assertArrayEquals(expectedScores, read(out, 1024 + 64, 64));
        call(alice, "POST", "/v2/systemsharedmemory/unregister", null);
    }

    @Test
    void status_listsTheCallersRegions_withKeyOffsetAndSize() throws IOException {
        String key = shm(256, new byte[0], 0);
        assertEquals(200, register(bob, "listed", key, 16, 128).statusCode());
        HttpResponse<String> r = call(bob, "GET", "/v2/systemsharedmemory/region/listed/status", null);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode region = Bodies.parse(r.body()).get(0);
        assertEquals("listed", region.get("name").textValue());
        assertEquals(key, region.get("key").textValue());
        assertEquals(16, region.get("offset").longValue());
        assertEquals(128, region.get("byte_size").longValue());
        assertEquals(200, call(bob, "POST", "/v2/systemsharedmemory/region/listed/unregister", null).statusCode());
        assertEquals(404, call(bob, "GET", "/v2/systemsharedmemory/region/listed/status", null).statusCode());
    }

    @Test
    void inputWindowPastTheRegion_is400() throws IOException {
        String key = shm(1024, new byte[0], 0);
        assertEquals(200, register(alice, "small", key, 0, 600).statusCode());
        HttpResponse<String> r = call(alice, "POST", "/v2/models/mlp/infer", infer(alice,
                "{\"shared_memory_region\":\"small\",\"shared_memory_byte_size\":512,\"shared_memory_offset\":100}",
                "{}"));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("out of its bounds"), r.body());
        call(alice, "POST", "/v2/systemsharedmemory/region/small/unregister", null);
    }

    @Test
    void outputLargerThanItsWindow_is400() throws IOException {
        String in = shm(512, floatsLE(Bodies.randomFloats(128, 2)), 0);
        String out = shm(512, new byte[0], 0);
        assertEquals(200, register(alice, "in2", in, 0, 512).statusCode());
        assertEquals(200, register(alice, "out2", out, 0, 32).statusCode());
        HttpResponse<String> r = call(alice, "POST", "/v2/models/mlp/infer", infer(alice,
                "{\"shared_memory_region\":\"in2\",\"shared_memory_byte_size\":512}",
                "{\"shared_memory_region\":\"out2\",\"shared_memory_byte_size\":32}"));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("needs 64 bytes"), r.body());
        call(alice, "POST", "/v2/systemsharedmemory/region/in2/unregister", null);
        call(alice, "POST", "/v2/systemsharedmemory/region/out2/unregister", null);
    }

    @Test
    void registeringPastTheEndOfTheKey_is400() throws IOException {
        String key = shm(100, new byte[0], 0);
        HttpResponse<String> r = register(alice, "past", key, 50, 51);
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("past the end"), r.body());
    }

    @Test
    void registeringAnUnknownKey_is400() {
        HttpResponse<String> r = register(alice, "nokey", "/gantry-test-does-not-exist", 0, 4);
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("does not exist"), r.body());
    }

    @Test
    void keyWithAPath_is400() {
        assertEquals(400, register(alice, "evil", "/../etc/passwd", 0, 4).statusCode());
    }

    @Test
    void sameNameTwice_is409() throws IOException {
        String key = shm(64, new byte[0], 0);
        assertEquals(200, register(alice, "twice", key, 0, 64).statusCode());
        assertEquals(409, register(alice, "twice", key, 0, 64).statusCode());
        call(alice, "POST", "/v2/systemsharedmemory/region/twice/unregister", null);
    }

    @Test
    void anotherKey_cannotSeeUseOrUnregisterARegion() throws IOException {
        String key = shm(512, floatsLE(Bodies.randomFloats(128, 4)), 0);
        assertEquals(200, register(alice, "private", key, 0, 512).statusCode());
        HttpResponse<String> use = call(bob, "POST", "/v2/models/mlp/infer", infer(bob,
                "{\"shared_memory_region\":\"private\",\"shared_memory_byte_size\":512}", "{}"));
        assertEquals(404, use.statusCode());
        assertTrue(use.body().contains("no shared memory region 'private' is registered by this caller"), use.body());
        assertEquals(404, call(bob, "GET", "/v2/systemsharedmemory/region/private/status", null).statusCode());
        assertEquals(404, call(bob, "POST", "/v2/systemsharedmemory/region/private/unregister", null).statusCode());
        assertTrue(!call(bob, "GET", "/v2/systemsharedmemory/status", null).body().contains("private"));
        HttpResponse<String> own = call(alice, "POST", "/v2/models/mlp/infer", infer(alice,
                "{\"shared_memory_region\":\"private\",\"shared_memory_byte_size\":512}", "{}"));
        assertEquals(200, own.statusCode(), own.body());
        call(alice, "POST", "/v2/systemsharedmemory/region/private/unregister", null);
    }

    @Test
    void withoutAKey_sharedMemoryRoutesAre401() {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v2/systemsharedmemory/status"))
                .GET().build());
        assertEquals(401, r.statusCode());
    }

    @Test
    void cudaSharedMemory_is400() {
        HttpResponse<String> r = call(alice, "POST", "/v2/cudasharedmemory/region/x/register", "{}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("CUDA shared memory is not supported"), r.body());
    }

    @Test
    void serverMetadata_listsSystemSharedMemory() {
        assertTrue(server.get("/v2").body().contains("\"system_shared_memory\""));
    }
}
