package dev.gantry.http.governance;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.artifact.UploadLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The upload limits as a client meets them over HTTP: an upload that stalls is answered 408 and its partial file
 * deleted; one upload more than {@code --upload-concurrency} is answered 503 with Retry-After while the others
 * go on; the flags reach the server and bad values are refused at start.
 */
class UploadLimitsHttpTest {
    private static final String MODEL = "limited";

    @TempDir
    Path dir;

    @Test
    void aStalledUpload_gets408_andLeavesNoPartialFile_andASecondConcurrentUpload_gets503() throws Exception {
        Path models = dir.resolve("models");
        new TempRepository(models).copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        ServerConfig config = ServerFixture.config(models, dir.resolve("data"));
        config = config.withLimits(config.limits().withUploads(new UploadLimits(1, Duration.ofMillis(1500), 0)));
        byte[] artifact = GovernanceApi.bundled("classifier");
        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            int port = server.server().port();
            try (Socket stalled = new Socket(InetAddress.getLoopbackAddress(), port)) {
                stalled.setSoTimeout(20_000);
                OutputStream out = stalled.getOutputStream();
                out.write(head(2, artifact.length).getBytes(StandardCharsets.US_ASCII));
                out.write(artifact, 0, 1024);
                out.flush();
                awaitPartialFile(models);

                // The one upload slot is taken: another upload is refused at once, before its body is read.
                HttpResponse<String> second = new GovernanceApi(port).upload(null, MODEL, 3, artifact);
                assertEquals(503, second.statusCode(), second.body());
                assertTrue(second.headers().firstValue("Retry-After").isPresent(), second.headers().toString());

                // Then the stalled one is dropped after its idle timeout.
                String reply = readHead(stalled.getInputStream());
                assertTrue(reply.startsWith("HTTP/1.1 408"), reply);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!partialFiles(models).isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "partial upload left behind: " + partialFiles(models));
                Thread.sleep(20);
            }
            // The slot is free again and nothing half-made blocks the version: the same upload now succeeds.
            HttpResponse<String> retry = new GovernanceApi(port).upload(null, MODEL, 2, artifact);
            assertEquals(201, retry.statusCode(), retry.body());
        }
    }

    @Test
    void uploadFlags_reachTheServerConfig_andBadValuesAreRefused() throws Exception {
        ServerConfig parsed = ServerConfigParser.parse(List.of("--upload-concurrency", "3",
                "--upload-idle-timeout-ms", "5000", "--upload-min-free-bytes", "0"), Map.of());
        assertEquals(new UploadLimits(3, Duration.ofSeconds(5), 0), parsed.limits().uploads());
        assertEquals(UploadLimits.defaults(), ServerConfigParser.parse(List.of(), Map.of()).limits().uploads());
        assertEquals(4, ServerConfigParser.parse(List.of(), Map.of("GANTRY_UPLOAD_CONCURRENCY", "4")).limits()
                .uploads().maxConcurrent());
        for (List<String> bad : List.of(List.of("--upload-concurrency", "0"), List.of("--upload-concurrency", "x"),
                List.of("--upload-idle-timeout-ms", "5"), List.of("--upload-min-free-bytes", "-1"))) {
            ServerConfigParser.ConfigException e = assertThrows(ServerConfigParser.ConfigException.class,
                    () -> ServerConfigParser.parse(bad, Map.of()), bad.toString());
            assertTrue(e.getMessage().contains(bad.get(0)), e.getMessage());
        }
    }

    private static String head(long version, long length) {
        return "PUT " + GovernanceApi.versionPath(MODEL, version) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: " + length + "\r\n\r\n";
    }

    private static void awaitPartialFile(Path models) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (partialFiles(models).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the upload never started");
            Thread.sleep(10);
        }
    }

    private static List<Path> partialFiles(Path models) throws IOException {
        Path staging = models.resolve(".staging");
        if (!Files.isDirectory(staging)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(staging)) {
            return files.toList();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            b.append((char) c);
            if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return b.toString();
    }
}
