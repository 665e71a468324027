package dev.gantry.http.triton;

import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BYTES elements through ONNX Runtime's Java API, which carries string tensors as java.lang.String: every UTF-8
 * text comes back byte for byte; bytes that are not UTF-8 cannot be carried and get a 400 that says so.
 */
class BytesElementsTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    /** A binary-extension request to identity_string with the given elements, all outputs binary. */
    static HttpResponse<byte[]> echo(List<byte[]> elements) {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (byte[] e : elements) {
            raw.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(e.length).array());
            raw.writeBytes(e);
        }
        String header = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"BYTES\",\"shape\":[1," + elements.size()
                + "],\"parameters\":{\"binary_data_size\":" + raw.size() + "}}],"
                + "\"parameters\":{\"binary_data_output\":true}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(h);
        body.writeBytes(raw.toByteArray());
        return server.post("/v2/models/identity_string/infer", body.toByteArray(),
                Map.of("Inference-Header-Content-Length", Integer.toString(h.length)));
    }

    static byte[] rawOutput(HttpResponse<byte[]> r) {
        int json = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        byte[] out = new byte[r.body().length - json];
        System.arraycopy(r.body(), json, out, 0, out.length);
        return out;
    }

    static byte[] encoded(List<byte[]> elements) {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (byte[] e : elements) {
            raw.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(e.length).array());
            raw.writeBytes(e);
        }
        return raw.toByteArray();
    }

    @Test
    void utf8Text_ofEveryWidth_comesBackByteForByte() {
        List<byte[]> elements = List.of("plain".getBytes(StandardCharsets.UTF_8),
                "h\u00e9llo".getBytes(StandardCharsets.UTF_8),
                "\u20ac \u4e2d".getBytes(StandardCharsets.UTF_8),
                "\uD83D\uDE00 four-byte".getBytes(StandardCharsets.UTF_8),
                new byte[0]);
        HttpResponse<byte[]> r = echo(elements);
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertArrayEquals(encoded(elements), rawOutput(r));
    }

    @Test
    void nonUtf8Bytes_are400_sayingOnnxRuntimeCarriesOnlyText() {
        HttpResponse<byte[]> r = echo(List.of(new byte[] {'o', 'k'}, new byte[] {(byte) 0xFF, 0x00, (byte) 0x80}));
        assertEquals(400, r.statusCode());
        String message = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(message.contains("element 1 is not valid UTF-8"), message);
    }

    @Test
    void embeddedNul_comesBackByteForByte() {
        List<byte[]> elements = List.of(new byte[] {'a', 0, 'b'}, new byte[] {0});
        HttpResponse<byte[]> r = echo(elements);
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertArrayEquals(encoded(elements), rawOutput(r));
    }
}
