package dev.gantry.http.hardening;

import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A request refused on its head alone (no key, a key without the right) leaves its body unread. Its connection
 * must then close, announced, so that a client reusing it does not send its next request behind the unread bytes
 * and wait for an answer that never comes; a refused request without a body keeps its connection.
 */
class RefusedBeforeTheBodyTest {
    static final String INFER = "/v2/models/add_fp32/infer";
    /** Larger than what arrives with the head, so most of it is still unread when the refusal goes out. */
    static final int LARGE = 512 * 1024;

    @TempDir
    static Path data;
    static ServerFixture server;
    static String narrowKey;
    static String adminKey;

    @BeforeAll
    static void start() {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data), ExecutorFactory.onnxRuntime());
        narrowKey = server.server().keys().create("narrow", Set.of(Role.INVOKE), Set.of("mlp"), Optional.empty(),
                Optional.empty()).token();
        adminKey = server.server().keys().create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(),
                Optional.empty()).token();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String authorization(String who) {
        return switch (who) {
            case "none" -> "";
            case "malformed" -> "Authorization: Basic eDp5\r\n";
            case "narrow" -> "Authorization: Bearer " + narrowKey + "\r\n";
            default -> throw new IllegalArgumentException(who);
        };
    }

    static byte[] post(String path, String who, int bodyBytes) {
        String body = "{\"inputs\":[]}" + " ".repeat(Math.max(0, bodyBytes - 13));
        return RawHttp.request("POST", path, "Content-Type: application/json\r\n" + authorization(who),
                body.getBytes(StandardCharsets.ISO_8859_1));
    }

    @ParameterizedTest(name = "{0} key, {1}-byte body: {2}")
    @CsvSource({"none, 600000, 401", "malformed, 600000, 401", "narrow, 600000, 403",
            "none, 40, 401", "narrow, 40, 403"})
    void refusedWithABody_saysConnectionClose_andCloses(String who, int bodyBytes, int status) throws IOException {
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            writeAllowingRefusal(s.getOutputStream(), post(INFER, who, bodyBytes));
            RawHttp.Reply reply = RawHttp.read(in);
            assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
            assertEquals(status, reply.status(), reply.toString());
            assertEquals("close", reply.header("connection"), reply.headers().toString());
            assertClosed(in);
        }
    }

    @ParameterizedTest(name = "{0} key")
    @ValueSource(strings = {"none", "narrow"})
    void refusedWithoutABody_keepsItsConnection(String who) throws IOException {
        byte[] get = ("GET /v2/models/add_fp32 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + authorization(who) + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(get);
                RawHttp.Reply reply = RawHttp.read(in);
                assertEquals(who.equals("none") ? 401 : 403, reply.status(), "request " + i + ": " + reply);
                assertNull(reply.header("connection"), reply.headers().toString());
            }
        }
    }

    /**
     * Answers the router gives on its own (no route, no route for the method, a bad version) to a request with a large body: the
     * connection either serves the next request or says it closes and does.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"POST, /v2/no-such-route, 404", "PUT, /v2/models/add_fp32/infer, 404",
            "POST, /v2/models/add_fp32/versions/x/infer, 400"})
    void routerAnswersWithABody_neverStrandTheConnection(String method, String path, int status)
            throws IOException {
        String body = " ".repeat(600_000);
        byte[] request = RawHttp.request(method, path, "Authorization: Bearer " + adminKey
                + "\r\nContent-Type: application/json\r\n", body.getBytes(StandardCharsets.ISO_8859_1));
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            writeAllowingRefusal(s.getOutputStream(), request);
            RawHttp.Reply reply = RawHttp.read(in);
            assertEquals(status, reply.status(), reply.toString());
            if ("close".equalsIgnoreCase(reply.header("connection"))) {
                assertClosed(in);
                return;
            }
            s.getOutputStream().write(("GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            RawHttp.Reply next = RawHttp.read(in);
            assertEquals(RawHttp.Outcome.RESPONSE, next.outcome(), "the next request on the connection: " + next);
            assertEquals(200, next.status(), next.toString());
        }
    }

    /**
     * A body larger than the server drops after a refusal (4 MiB) is not read to its end: the connection closes
     * (end of stream or reset) instead of the server reading all of it.
     */
    @Test
    void refusedWithAHugeBody_isClosedWithoutReadingItAll() throws Exception {
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            s.getOutputStream().write(("POST " + INFER + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + (64L << 20) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            long sent = 0;
            try {
                while (sent < (64L << 20)) {
                    s.getOutputStream().write(chunk);
                    sent += chunk.length;
                }
                fail("the server read all of a refused 64 MiB body");
            } catch (IOException e) {
                // closed by the server after the bytes it drops
            }
            assertTrue(sent < (32L << 20), "sent " + sent + " bytes before the server closed");
        }
    }

    /** The connection a refusal closed is not reused: the same client's next connection is served. */
    @ParameterizedTest(name = "{0} key")
    @ValueSource(strings = {"none", "narrow"})
    void afterARefusedUpload_aNewConnectionIsServed(String who) throws IOException {
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            writeAllowingRefusal(s.getOutputStream(), post(INFER, who, LARGE));
            assertNotEquals(200, RawHttp.read(new BufferedInputStream(s.getInputStream())).status());
        }
        String body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
                + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[10,20,30,40]}]}";
        byte[] ok = RawHttp.request("POST", INFER, "Content-Type: application/json\r\nAuthorization: Bearer "
                + adminKey + "\r\n", body.getBytes(StandardCharsets.ISO_8859_1));
        RawHttp.Reply reply = RawHttp.exchange(server.server().port(), ok, 10_000);
        assertEquals(200, reply.status(), reply.toString());
    }

    /** Writes the request; the server may close before reading all of it, which is what is being tested. */
    private static void writeAllowingRefusal(OutputStream out, byte[] request) {
        try {
            out.write(request);
            out.flush();
        } catch (IOException e) {
            // The refusal is read next; a write cut short by the close is expected.
        }
    }

    /** The server ends the connection cleanly (end of stream, not a reset) within the read timeout. */
    private static void assertClosed(InputStream in) throws IOException {
        try {
            assertEquals(-1, in.read(), "a byte arrived after the refusal");
        } catch (SocketTimeoutException e) {
            fail("the connection stayed open after a refusal that left its body unread");
        }
    }
}
