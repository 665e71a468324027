package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server killed with SIGKILL in the middle of an upload leaves no trace of it: after a restart on the same
 * directories the version does not exist, the partial files are gone, and the same upload then succeeds. The
 * servers run as child JVMs of the test's own classpath.
 */
class CrashDuringUploadTest {
    private static final String MODEL = "crashy";
    private static final long DECLARED_BYTES = 50L << 20;

    @TempDir
    Path dir;

    @Test
    void sigkillMidUpload_thenRestart_leavesNoVersionAndNoLeftovers_andTheUploadCanBeRepeated() throws Exception {
        Path models = dir.resolve("models");
        Path data = dir.resolve("data");
        new TempRepository(models).copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        byte[] artifact = GovernanceApi.bundled("classifier");

        try (ChildServer first = ChildServer.start(models, data)) {
            first.awaitOutput("Gantry ready");
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), first.port)) {
                OutputStream out = socket.getOutputStream();
                out.write(("PUT " + GovernanceApi.versionPath(MODEL, 2) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/octet-stream\r\nContent-Length: " + DECLARED_BYTES + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(artifact);
                byte[] chunk = new byte[64 * 1024];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                /* Stream slowly until the server has demonstrably written part of the body to disk. */
                while (largestPartialUpload(models) < 512 * 1024) {
                    assertTrue(System.nanoTime() < deadline, "the server never wrote the upload to disk; output:\n"
                            + first.output());
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(10);
                }
                first.process.destroyForcibly();
                assertTrue(first.process.waitFor(30, TimeUnit.SECONDS), "SIGKILL did not end the server");
            }
        }
        assertTrue(largestPartialUpload(models) > 0, "the killed server left a partial upload for the restart to"
                + " clean up");
        // And the leftover of a crash later on, while the version was being assembled before its rename.
        Path incoming = Files.createDirectories(models.resolve(MODEL).resolve(".incoming-2-00000000deadbeef"));
        Files.write(incoming.resolve("model.onnx"), artifact);

        try (ChildServer second = ChildServer.start(models, data)) {
            second.awaitOutput("Gantry ready");
            GovernanceApi api = new GovernanceApi(second.port);
            HttpResponse<String> record = api.get(null, GovernanceApi.versionPath(MODEL, 2));
            assertEquals(404, record.statusCode(), record.body());
            HttpResponse<String> metadata = api.get(null, "/v2/models/" + MODEL + "/versions/2");
            assertEquals(404, metadata.statusCode(), metadata.body());
            assertEquals(List.of(), leftovers(models), "partial uploads left in the repository");
            assertFalse(Files.exists(models.resolve(MODEL).resolve("2")));

            HttpResponse<String> put = api.upload(null, MODEL, 2, artifact);
            assertEquals(201, put.statusCode(), put.body());
            assertEquals("created", Bodies.parse(put.body()).path("outcome").asText());
            JsonNode settled = api.awaitStage(null, MODEL, 2, Set.of("VALIDATED", "FAILED"));
            assertEquals("VALIDATED", settled.path("stage").asText(), settled.toString());
            assertEquals(200, api.get(null, "/v2/models/" + MODEL + "/versions/2").statusCode());
            assertEquals(0, second.terminate(), "output:\n" + second.output());
        }
    }

    /** Size of the biggest file under the repository's staging directory, 0 when there is none. */
    private static long largestPartialUpload(Path models) throws IOException {
        Path staging = models.resolve(".staging");
        if (!Files.isDirectory(staging)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(staging)) {
            return files.mapToLong(p -> p.toFile().length()).max().orElse(0);
        }
    }

    /** Files in the staging directory and hidden .incoming-* directories anywhere in the repository. */
    private static List<Path> leftovers(Path models) throws IOException {
        try (Stream<Path> all = Files.walk(models)) {
            return all.filter(p -> p.getFileName().toString().startsWith(".incoming-")
                    || (p.getParent() != null && p.getParent().getFileName().toString().equals(".staging"))).toList();
        }
    }
}
