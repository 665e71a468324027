package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request bodies that arrive in several reads (every other HTTP test sends bodies that arrive in one). */
class BodyInPiecesHttpTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    /**
     * A body that arrives in pieces (each written and flushed apart, so the server reads separate chunks) is read
     * whole: a Content-Length body in three writes and a chunked one in four both get the right answer.
     */
    @Test
    void bodyArrivingInSeveralPieces_isReadWhole() throws Exception {
        String body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
                + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5,6,7,8]}]}";
        String head = "POST /v2/models/add_fp32/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Connection: close\r\n";
        List<String> sized = List.of(head + "Content-Length: " + body.length() + "\r\n\r\n" + body.substring(0, 10),
                body.substring(10, 60), body.substring(60));
        List<String> chunked = new ArrayList<>(List.of(head + "Transfer-Encoding: chunked\r\n\r\n"));
        for (String piece : List.of(body.substring(0, 1), body.substring(1, 50), body.substring(50))) {
            chunked.add(Integer.toHexString(piece.length()) + "\r\n" + piece + "\r\n");
        }
        chunked.add("0\r\n\r\n");
        for (List<String> pieces : List.of(sized, chunked)) {
            String response = inPieces(pieces);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            JsonNode out = Bodies.parse(response.substring(response.indexOf("\r\n\r\n") + 4)).get("outputs").get(0);
            assertEquals("[6.0,8.0,10.0,12.0]", out.get("data").toString());
        }
    }

    /** Writes each piece with a pause between, then returns the whole response (the server closes after it). */
    private static String inPieces(List<String> pieces) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.server().port())) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            for (String piece : pieces) {
                out.write(piece.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread.sleep(30);
            }
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

}
