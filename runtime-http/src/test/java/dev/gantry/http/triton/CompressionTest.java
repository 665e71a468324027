package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Content-Encoding gzip and deflate on inference requests (JSON and binary), compressed responses for clients
 * that accept them, and the decompressed-size limit that defeats compression bombs.
 */
class CompressionTest {
    static final long MAX_BODY = 4L << 20;
    static final String MLP = "/v2/models/mlp/infer";
    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", "mlp", 1, "{\"max_batch_size\": 64}");
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data"))
                .withMaxBodyBytes(MAX_BODY), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        assertEquals(0, server.blockedEventLoops(), "Vert.x reported a blocked event loop");
        server.close();
    }

    static byte[] compress(String coding, byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = coding.equals("gzip") ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
            z.write(plain);
        }
        return out.toByteArray();
    }

    static byte[] decompress(String coding, byte[] body) throws IOException {
        try (InputStream in = coding.equals("gzip") ? new GZIPInputStream(new ByteArrayInputStream(body))
                : new InflaterInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        }
    }

    static String jsonRequest(int rows) {
        return Bodies.fp32Request("features", new long[] {rows, 64}, Bodies.randomFloats(rows * 64, 11), null);
    }

    static HttpResponse<byte[]> post(byte[] body, Map<String, String> headers) {
        return server.post(MLP, body, headers);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "deflate"})
    void compressedJsonRequest_givesTheSameOutputsAsUncompressed(String coding) throws IOException {
        byte[] plain = jsonRequest(3).getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> expected = post(plain, Map.of("Content-Type", "application/json"));
        HttpResponse<byte[]> actual = post(compress(coding, plain),
                Map.of("Content-Type", "application/json", "Content-Encoding", coding));
        assertEquals(200, actual.statusCode(), new String(actual.body(), StandardCharsets.UTF_8));
        assertEquals(Bodies.parse(new String(expected.body(), StandardCharsets.UTF_8)),
                Bodies.parse(new String(actual.body(), StandardCharsets.UTF_8)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "deflate"})
    void compressedBinaryRequest_headerLengthCountsDecompressedBytes_andGivesTheSameOutputs(String coding)
            throws IOException {
        long[] headerLength = new long[1];
        byte[] plain = Bodies.fp32Binary("features", new long[] {2, 64}, Bodies.randomFloats(128, 5),
                "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]", headerLength);
        Map<String, String> headers = Map.of("Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Long.toString(headerLength[0]));
        HttpResponse<byte[]> expected = post(plain, headers);
        assertEquals(200, expected.statusCode());
        Map<String, String> compressed = new java.util.HashMap<>(headers);
        compressed.put("Content-Encoding", coding);
        HttpResponse<byte[]> actual = post(compress(coding, plain), compressed);
        assertEquals(200, actual.statusCode(), new String(actual.body(), StandardCharsets.UTF_8));
        assertArrayEquals(expected.body(), actual.body());
    }

    @Test
    void rawDeflateStream_isAcceptedAsDeflate() throws IOException {
        byte[] plain = jsonRequest(1).getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = new DeflaterOutputStream(out, new Deflater(Deflater.DEFAULT_COMPRESSION, true))) {
            z.write(plain);
        }
        HttpResponse<byte[]> r = post(out.toByteArray(), Map.of("Content-Encoding", "deflate"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    }

    @Test
    void gzipBomb_ofOneGigabyte_isRefusedWith413_atTheLimit() throws IOException {
        // 1 GiB of zeros as a multi-member gzip stream built from one 1 MiB member: about 1 MB on the wire.
        byte[] bomb = dev.gantry.http.inference.ContentCodingTest.gzipOfZeros(1L << 30);
        assertTrue(bomb.length < MAX_BODY, "the bomb itself fits under the body limit: " + bomb.length);
        HttpResponse<byte[]> r = post(bomb, Map.of("Content-Type", "application/json",
                "Content-Encoding", "gzip"));
        assertEquals(413, r.statusCode());
        String message = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(message.contains("decompresses (Content-Encoding: gzip) to more than the limit of " + MAX_BODY
                + " bytes"), message);
        assertEquals(200, server.get("/v2/health/live").statusCode(), "the server lives on");
    }

    @Test
    void truncatedGzip_is400NamingTheCoding() throws IOException {
        byte[] whole = compress("gzip", jsonRequest(1).getBytes(StandardCharsets.UTF_8));
        HttpResponse<byte[]> r = post(Arrays.copyOf(whole, whole.length / 2), Map.of("Content-Encoding", "gzip"));
        assertEquals(400, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("gzip"));
    }

    @Test
    void notGzipAtAll_is400() {
        HttpResponse<byte[]> r = post(jsonRequest(1).getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Encoding", "gzip"));
        assertEquals(400, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("not valid gzip data"));
    }

    @Test
    void unsupportedContentEncoding_is415NamingWhatIsAccepted() {
        HttpResponse<byte[]> r = post(jsonRequest(1).getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Encoding", "br"));
        assertEquals(415, r.statusCode());
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("send gzip, deflate or identity"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "deflate"})
    void largeResponse_isCompressed_whenTheClientAcceptsIt(String coding) throws IOException {
        byte[] plain = jsonRequest(32).getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> expected = post(plain, Map.of());
        assertTrue(expected.body().length > 1024, "the answer is large enough to compress");
        HttpResponse<byte[]> r = post(plain, Map.of("Accept-Encoding", coding));
        assertEquals(200, r.statusCode());
        assertEquals(coding, r.headers().firstValue("Content-Encoding").orElse("none"));
        assertTrue(r.body().length < expected.body().length);
        assertArrayEquals(expected.body(), decompress(coding, r.body()));
    }

    @Test
    void smallResponse_isNotCompressed() {
        HttpResponse<byte[]> r = post(jsonRequest(1).getBytes(StandardCharsets.UTF_8),
                Map.of("Accept-Encoding", "gzip"));
        assertEquals(200, r.statusCode());
        assertFalse(r.headers().firstValue("Content-Encoding").isPresent());
        Bodies.parse(new String(r.body(), StandardCharsets.UTF_8));
    }

    @Test
    void response_isNotCompressed_withoutAcceptEncoding() {
        HttpResponse<byte[]> r = post(jsonRequest(32).getBytes(StandardCharsets.UTF_8), Map.of());
        assertFalse(r.headers().firstValue("Content-Encoding").isPresent());
    }

    @Test
    void compressedBinaryResponse_headerLengthCountsDecompressedBytes() throws IOException {
        long[] headerLength = new long[1];
        byte[] plain = Bodies.fp32Binary("features", new long[] {64, 64}, Bodies.randomFloats(64 * 64, 9),
                "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]", headerLength);
        HttpResponse<byte[]> r = post(plain, Map.of("Inference-Header-Content-Length",
                Long.toString(headerLength[0]), "Accept-Encoding", "gzip;q=1.0, deflate;q=0.5"));
        assertEquals(200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse("none"));
        byte[] body = decompress("gzip", r.body());
        int json = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode header = Bodies.parse(new String(body, 0, json, StandardCharsets.UTF_8));
        assertEquals(64 * 8 * 4, header.get("outputs").get(0).get("parameters").get("binary_data_size").intValue());
        assertEquals(json + 64 * 8 * 4, body.length);
    }

    @Test
    void acceptEncodingWithQZero_isNotCompressed() {
        HttpResponse<byte[]> r = post(jsonRequest(32).getBytes(StandardCharsets.UTF_8),
                Map.of("Accept-Encoding", "gzip;q=0, deflate;q=0"));
        assertFalse(r.headers().firstValue("Content-Encoding").isPresent());
    }
}
