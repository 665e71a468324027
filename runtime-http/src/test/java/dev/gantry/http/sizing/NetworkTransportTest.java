package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.json.Json;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --transport}: the event loops' socket transport, io_uring where the kernel allows it, else epoll where
 * Netty's native library loads (the build machines and the Docker image are Linux x86-64), NIO on request; all
 * serve the same answers and the server states which one it runs.
 */
class NetworkTransportTest {
    private static final MachineDefaults TWO_CORES = MachineDefaults.derive(2, 24L << 30);
    private static final String ADD = """
            {"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1.5,2,3,4]},
                       {"name":"b","shape":[1,4],"datatype":"FP32","data":[0.25,-2,30,0.125]}]}""";

    @TempDir
    Path dir;

    @Test
    void noFlag_takesIoUringWhereTheKernelAllowsIt() throws Exception {
        assumeTrue(IoUring.isAvailable(), "io_uring is not allowed here");
        assertEquals(NetworkTransport.IO_URING, ServerConfigParser.parse(List.of(), Map.of(), TWO_CORES).transport());
        assertEquals(NetworkTransport.IO_URING,
                ServerConfigParser.parse(List.of("--transport", "auto"), Map.of(), TWO_CORES).transport());
    }

    @Test
    void noFlag_takesEpollWhereIoUringIsRefused() throws Exception {
        assumeTrue(!IoUring.isAvailable() && Epoll.isAvailable(), "io_uring is allowed here, or epoll does not load");
        assertEquals(NetworkTransport.EPOLL, ServerConfigParser.parse(List.of(), Map.of(), TWO_CORES).transport());
    }

    @Test
    void nativeFlags_selectThatTransport() throws Exception {
        assumeTrue(IoUring.isAvailable() && Epoll.isAvailable(), "a native transport does not load here");
        assertEquals(NetworkTransport.EPOLL,
                ServerConfigParser.parse(List.of("--transport", "epoll"), Map.of(), TWO_CORES).transport());
        assertEquals(NetworkTransport.IO_URING,
                ServerConfigParser.parse(List.of(), Map.of("GANTRY_TRANSPORT", "IO_URING"), TWO_CORES).transport());
    }

    @Test
    void ioUringAskedForWhereRefused_isRefusedWithTheKernelsReason() {
        assumeTrue(!IoUring.isAvailable(), "io_uring is allowed here");
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--transport", "io_uring"), Map.of(), TWO_CORES));
        assertTrue(e.getMessage().startsWith("--transport io_uring is not available on this machine ("),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("); use auto, or epoll or nio"), e.getMessage());
    }

    @Test
    void nioFlag_andVariable_selectNio() throws Exception {
        assertEquals(NetworkTransport.NIO,
                ServerConfigParser.parse(List.of("--transport", "nio"), Map.of(), TWO_CORES).transport());
        assertEquals(NetworkTransport.NIO,
                ServerConfigParser.parse(List.of(), Map.of("GANTRY_TRANSPORT", "NIO"), TWO_CORES).transport());
    }

    @Test
    void unknownTransport_isRefusedNamingTheChoices() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--transport", "kqueue"), Map.of(), TWO_CORES));
        assertEquals("--transport must be one of auto, io_uring, epoll, nio, was 'kqueue'", e.getMessage());
    }

    @Test
    void unknownTransportFromTheEnvironment_namesTheVariable() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of(), Map.of("GANTRY_TRANSPORT", "uring"), TWO_CORES));
        assertEquals("--transport (from GANTRY_TRANSPORT) must be one of auto, io_uring, epoll, nio, was 'uring'",
                e.getMessage());
    }

    @Test
    void startLine_statesTheTransport_andWhatAFlagReplaced() {
        Machine m = new Machine(2, 24L << 30, java.util.Optional.empty());
        NetworkTransport derived = NetworkTransport.derived();
        NetworkTransport other = derived == NetworkTransport.NIO ? NetworkTransport.EPOLL : NetworkTransport.NIO;
        String plain = new ServerSizing(m, TWO_CORES, 1, 2, 1, 1, TWO_CORES.heapBytes(),
                TWO_CORES.ortMemory(), derived, BufferAccess.current()).describe();
        String set = new ServerSizing(m, TWO_CORES, 1, 2, 1, 1, TWO_CORES.heapBytes(),
                TWO_CORES.ortMemory(), other, BufferAccess.current()).describe();
        assertTrue(plain.contains(", transport " + derived.label() + " (derived defaults;"), plain);
        assertTrue(set.contains(", transport " + other.label() + " (set; derived " + derived.label() + ")"), set);
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void eachTransport_servesTheSameAnswer_andSaysWhichItRuns(String transport) throws Exception {
        assumeTrue(NetworkTransport.valueOf(transport.toUpperCase(java.util.Locale.ROOT)).unavailable().isEmpty(),
                transport + " does not run here");
        new TempRepository(dir.resolve("models")).copy("add_fp32", "add", 1, null);
        ServerConfig config = ServerConfigParser.parse(List.of("--port", "0", "--grpc-port", "-1", "--models",
                dir.resolve("models").toString(), "--data", dir.resolve("data").toString(), "--access-log", "off",
                "--transport", transport), Map.of());
        long ringsBefore = ioUringFds();
        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            if (transport.equals("io_uring")) {
                assertTrue(ioUringFds() > ringsBefore, "the server's event loops opened no io_uring instance");
            }
            HttpResponse<String> answer = server.postJson("/v2/models/add/infer", ADD);
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode out = Json.MAPPER.readTree(answer.body()).path("outputs").path(0);
            assertEquals(List.of(1.75, 0.0, 33.0, 4.125), Json.MAPPER.convertValue(out.path("data"),
                    Json.MAPPER.getTypeFactory().constructCollectionType(List.class, Double.class)));

            HttpResponse<String> info = server.get("/admin/v1/server");
            assertEquals(200, info.statusCode(), info.body());
            JsonNode t = Json.MAPPER.readTree(info.body()).path("sizing").path("transport");
            assertEquals(transport, t.path("value").asText());
            assertEquals(NetworkTransport.derived().label(), t.path("derived").asText());
            assertEquals(!transport.equals(NetworkTransport.derived().label()), t.path("overridden").asBoolean());
        }
    }

    /** The io_uring instances this JVM holds open: each shows in /proc/self/fd as a link to anon_inode:[io_uring]. */
    private static long ioUringFds() throws java.io.IOException {
        try (var fds = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return java.nio.file.Files.readSymbolicLink(fd).toString().equals("anon_inode:[io_uring]");
                } catch (java.io.IOException e) {
                    return false; // closed between the listing and the read
                }
            }).count();
        }
    }
}
