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
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C heap's periodic trim: which JDKs get the option, that the launcher and the Docker image pass it, and that
 * a server says whether it trims (start-up line, {@code GET /admin/v1/server}), started with it or without.
 */
class NativeTrimTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "JDK {0}: {1}")
    @CsvSource({"21, ''", "22, -XX:TrimNativeHeapInterval=30000", "25, -XX:TrimNativeHeapInterval=30000"})
    void nativeTrimOptions_areGivenFromJdk22On(int feature, String expected) {
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), MachineDefaults.nativeTrimOptions(feature));
        assertEquals(!expected.isEmpty(),
                MachineDefaults.launcherOptions(feature).contains(MachineDefaults.NATIVE_TRIM));
    }

    @Test
    void launcherAndImage_passTheOption() throws Exception {
        // this JDK (25 in CI) accepts it, so the launcher's probe must print it
        assertTrue(launcherOptions().contains(MachineDefaults.NATIVE_TRIM), launcherOptions().toString());
        String entrypoint = Files.readString(Path.of("..", "docker", "entrypoint.sh"));
        assertTrue(entrypoint.contains("if java " + MachineDefaults.NATIVE_TRIM + " -version"), entrypoint);
        assertTrue(entrypoint.contains("-XX:InlineSmallCode=1000 $trim $heap"), entrypoint);
    }

    @Test
    void aServerWithTheLauncherOptions_trims_andSaysSo_andOneWithoutSaysHowTo() throws Exception {
        try (ChildServer server = start("with", launcherOptions())) {
            JsonNode trim = reported(server);
            assertEquals(30000, trim.path("value").asLong(), trim.toString());
            assertEquals(30000, trim.path("derived").asLong(), trim.toString());
            assertFalse(trim.path("overridden").asBoolean(), trim.toString());
            assertTrue(server.output().contains("; C heap trimmed every 30000 ms"), server.output());
        }
        try (ChildServer server = start("without", List.of())) {
            JsonNode trim = reported(server);
            assertEquals(0, trim.path("value").asLong(), trim.toString());
            assertTrue(trim.path("overridden").asBoolean(), trim.toString());
            assertTrue(server.output().contains("; C heap not trimmed periodically (-XX:TrimNativeHeapInterval=30000"
                    + " would, as ./gantry does)"), server.output());
        }
    }

    @Test
    void anotherInterval_orAJvmWithoutTheOption_isDescribedAsSuch() {
        NativeTrim other = new NativeTrim(OptionalLong.of(1000));
        assertTrue(other.overridden());
        assertEquals("C heap trimmed every 1000 ms (set; the launcher's is 30000 ms)", other.describe());
        NativeTrim none = new NativeTrim(OptionalLong.empty());
        assertTrue(none.overridden());
        assertTrue(none.describe().startsWith("C heap not trimmed periodically (this JVM has no"), none.describe());
        assertFalse(new NativeTrim(OptionalLong.of(30000)).overridden());
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

    private ChildServer start(String name, List<String> jvmOptions) throws Exception {
        ChildServer server = ChildServer.start(Files.createDirectories(dir.resolve("models")),
                dir.resolve("data-" + name), List.of(), Map.of(), jvmOptions);
        server.awaitOutput("Gantry ready");
        return server;
    }

    private static JsonNode reported(ChildServer server) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port + "/admin/v1/server")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Json.MAPPER.readTree(r.body()).path("sizing").path("native_trim_interval_ms");
        }
    }
}
