package dev.gantry.http.hardening;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A body refused part-way for its size (413) is not read to its end: the answer says "Connection: close", the
 * server drops what follows for a bounded number of bytes and closes. A client that declares a huge length, or
 * streams a chunked body without end, does not hold a connection and a read loop for as long as it keeps sending.
 */
class BodyPastTheLimitTest {
    static final int MAX_BODY = 1 << 20;
    static final String HEAD = "Host: 127.0.0.1\r\nContent-Type: application/json\r\n";

    @TempDir
    static Path data;
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data).withMaxBodyBytes(MAX_BODY),
                ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A body a little past the limit, sent whole: 413, "Connection: close", then a clean end of stream. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/v2/models/add_fp32/infer", "/v1/embeddings"})
    void aBodyJustPastTheLimit_is413_andItsConnectionClosesCleanly(String path) throws IOException {
        byte[] body = " ".repeat(MAX_BODY + 4096).getBytes(StandardCharsets.ISO_8859_1);
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            writeAllowingClose(s.getOutputStream(), RawHttp.request("POST", path, "Content-Type: application/json\r\n",
                    body));
            RawHttp.Reply reply = RawHttp.read(in);
            assertEquals(RawHttp.Outcome.RESPONSE, reply.outcome(), reply.toString());
            assertEquals(413, reply.status(), reply.toString());
            assertEquals("close", reply.header("connection"), reply.headers().toString());
            try {
                assertEquals(-1, in.read(), "a byte arrived after the 413");
            } catch (SocketTimeoutException e) {
                fail("the connection stayed open after a 413 whose body had all arrived");
            }
        }
    }

    @Test
    void aDeclaredLengthFarPastTheLimit_isNotReadToItsEnd() throws IOException {
        String head = "POST /v2/models/add_fp32/infer HTTP/1.1\r\n" + HEAD + "Content-Length: " + (256L << 20)
                + "\r\n\r\n";
        assertClosedBefore(head, 256L << 20, /* chunked= */ false);
    }

    @Test
    void aChunkedBodyThatNeverEnds_isCutOffAfterTheLimit() throws IOException {
        String head = "POST /v2/models/add_fp32/infer HTTP/1.1\r\n" + HEAD + "Transfer-Encoding: chunked\r\n\r\n";
        assertClosedBefore(head, 256L << 20, /* chunked= */ true);
    }

    /**
     * Sends the head, then body bytes up to {@code total}; the server must close the connection (end of stream
     * or reset) well before: the limit plus what it drops after a refusal (4 MiB) plus socket buffers.
     */
    private static void assertClosedBefore(String head, long total, boolean chunked) throws IOException {
        byte[] data = new byte[64 * 1024];
        byte[] piece = chunked ? chunk(data) : data;
        long sent = 0;
        try (Socket s = RawHttp.connect(server.server().port(), 10_000)) {
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            try {
                while (sent < total) {
                    out.write(piece);
                    sent += data.length;
                }
                fail("the server read all " + sent + " bytes of a body past its limit");
            } catch (IOException e) {
                // closed by the server after the bytes it drops
            }
        }
        assertTrue(sent < 64L << 20, "sent " + sent + " bytes before the server closed");
    }

    private static byte[] chunk(byte[] data) {
        byte[] size = (Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[size.length + data.length + 2];
        System.arraycopy(size, 0, out, 0, size.length);
        System.arraycopy(data, 0, out, size.length, data.length);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    private static void writeAllowingClose(OutputStream out, byte[] request) {
        try {
            out.write(request);
            out.flush();
        } catch (IOException e) {
            // the answer is read next; a write cut short by the close is expected
        }
    }
}
