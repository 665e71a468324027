package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.json.Json;
import dev.gantry.http.testing.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's memory-access option: which JDKs get it, that {@code ./gantry} gives the server what
 * {@link MachineDefaults} names, and that a server started with those options has Netty on Unsafe and says so
 * (start-up line, {@code GET /admin/v1/server}), while a later opt-out on the command line wins.
 */
class BufferAccessTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "JDK {0}: {1}")
    @CsvSource({"21, ''", "22, ''", "23, --sun-misc-unsafe-memory-access=allow",
            "25, --sun-misc-unsafe-memory-access=allow", "30, --sun-misc-unsafe-memory-access=allow"})
    void memoryAccessOptions_areGivenFromJdk23On(int feature, String expected) {
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), MachineDefaults.memoryAccessOptions(feature));
    }

    @Test
    void launcher_givesTheServerTheOptionsMachineDefaultsNames() throws Exception {
        assertEquals(MachineDefaults.launcherOptions(Runtime.version().feature()), launcherOptions());
    }

    @Test
    void aServerWithTheLauncherOptions_usesUnsafe_withoutTheJdkWarning_andSaysSo() throws Exception {
        try (ChildServer server = start(launcherOptions())) {
            JsonNode access = bufferAccess(server);
            assertTrue(access.path("unsafe").asBoolean(), access.toString());
            assertTrue(access.path("reason").isNull(), access.toString());
            assertTrue(server.output().contains("; Netty buffers through sun.misc.Unsafe"), server.output());
            assertFalse(server.output().contains("sun.misc.Unsafe::"), "the JDK warned about Unsafe:\n"
                    + server.output());
        }
    }

    @Test
    void anOptOutLaterOnTheCommandLine_wins_andTheServerSaysWhy() throws Exception {
        List<String> options = new ArrayList<>(launcherOptions());
        options.add("-Dio.netty.noUnsafe=true"); // where GANTRY_JAVA_OPTS go
        try (ChildServer server = start(options)) {
            JsonNode access = bufferAccess(server);
            assertFalse(access.path("unsafe").asBoolean(), access.toString());
            assertTrue(access.path("reason").asText().contains("io.netty.noUnsafe"), access.toString());
            assertTrue(server.output().contains("; Netty buffers through checked ByteBuffer access ("),
                    server.output());
            assertTrue(server.output().contains(MachineDefaults.UNSAFE_MEMORY_ACCESS + " allows Unsafe"),
                    server.output());
        }
    }

    /** What {@code ./gantry jvm-options} prints with this JDK as JAVA_HOME. */
    private static List<String> launcherOptions() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "gantry").toString(), "jvm-options");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "./gantry jvm-options did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private ChildServer start(List<String> jvmOptions) throws Exception {
        ChildServer server = ChildServer.start(Files.createDirectories(dir.resolve("models")), dir.resolve("data"),
                List.of(), Map.of(), jvmOptions);
        server.awaitOutput("Gantry ready");
        return server;
    }

    private static JsonNode bufferAccess(ChildServer server) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port + "/admin/v1/server")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Json.MAPPER.readTree(r.body()).path("sizing").path("buffer_access");
        }
    }
}
