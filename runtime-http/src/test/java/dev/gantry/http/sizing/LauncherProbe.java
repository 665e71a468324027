package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.json.Json;
import dev.gantry.http.testing.ChildServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the launcher gives a server JVM, and a server started with chosen JVM options, for the sizing tests. */
final class LauncherProbe {
    private LauncherProbe() {
    }

    /** What {@code ./gantry jvm-options} prints with this JDK as JAVA_HOME. */
    static List<String> launcherOptions() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "gantry").toString(), "jvm-options");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "./gantry jvm-options did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    /** A server with {@code jvmOptions}, its data in {@code dir}/{@code data}, once it is ready. */
    static ChildServer start(Path dir, String data, List<String> jvmOptions) throws Exception {
        ChildServer server = ChildServer.start(Files.createDirectories(dir.resolve("models")), dir.resolve(data),
                List.of(), Map.of(), jvmOptions);
        server.awaitOutput("Gantry ready");
        return server;
    }

    /** The {@code sizing} object of the server's {@code GET /admin/v1/server}. */
    static JsonNode sizing(ChildServer server) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port + "/admin/v1/server")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Json.MAPPER.readTree(r.body()).path("sizing");
        }
    }
}
