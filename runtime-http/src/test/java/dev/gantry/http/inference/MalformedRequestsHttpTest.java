package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.fixtures.MalformedRequests;
import dev.gantry.http.fixtures.MalformedRequests.MalformedRequest;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hundreds of distinct malformed requests over real HTTP: each gets a 4xx JSON error, and the server serves on. */
class MalformedRequestsHttpTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @Test
    void everyMalformedRequest_getsA4xxJsonError_andTheServerStillAnswersCorrectly() {
        List<MalformedRequest> corpus = MalformedRequests.corpus();
        assertTrue(corpus.size() >= 200, "corpus has " + corpus.size());
        List<String> failures = new ArrayList<>();
        for (MalformedRequest m : corpus) {
            HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/v2/models/" + m.model() + "/infer"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(m.body()));
            if (m.contentType() != null) {
                b.header("Content-Type", m.contentType());
            }
            m.headers().forEach(b::header);
            HttpResponse<String> r = server.send(b.build());
            if (r.statusCode() < 400 || r.statusCode() >= 500) {
                failures.add(m.description() + " -> " + r.statusCode() + " " + r.body());
                continue;
            }
            JsonNode body = Bodies.parse(r.body());
            if (body.get("error") == null || body.get("error").asText().isBlank()) {
                failures.add(m.description() + " -> no error message: " + r.body());
            }
        }
        assertEquals(List.of(), failures);
        assertStillServes();
    }

    @Test
    void rawHttpAbuse_isAnsweredOrCutOff_andTheServerStillAnswersCorrectly() throws Exception {
        String path = "/v2/models/mlp/infer";
        List<String> raw = List.of(
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"inputs\":[",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nInference-Header-Content-Length: 10\r\nContent-Length: 3\r\n\r\n{}}",
                "GARBAGE\r\n\r\n",
                "POST /v2/models/" + "m".repeat(10_000) + "/infer HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST " + path + " HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n",
                "GET /v2/models/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v2/models/mlp/versions/99999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n");
        for (String request : raw) {
            String status = exchange(request);
            assertTrue(status.isEmpty() || status.matches("HTTP/1\\.[01] 4\\d\\d.*"),
                    "expected a 4xx or a closed connection for " + request.lines().findFirst().orElse("") + ", got: "
                            + status);
        }
        assertStillServes();
    }

    /** Sends raw bytes, half-closes, and returns the status line ("" if the server closed without answering). */
    private static String exchange(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.server().port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                line.append((char) c);
            }
            return line.toString().trim();
        } catch (java.net.SocketException e) {
            return "";
        }
    }

    private static void assertStillServes() {
        HttpResponse<byte[]> ok = server.post("/v2/models/add_fp32/infer",
                ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
                        + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}")
                        .getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
        assertEquals(200, ok.statusCode());
        JsonNode out = Bodies.parse(new String(ok.body(), StandardCharsets.UTF_8)).get("outputs").get(0);
        assertEquals("[2.0,3.0,4.0,5.0]", out.get("data").toString());
    }
}
