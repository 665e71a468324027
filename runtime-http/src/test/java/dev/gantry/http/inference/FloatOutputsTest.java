package dev.gantry.http.inference;

import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Float outputs come back from a real server in Float.toString's text, which parses to the identical bits. */
class FloatOutputsTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @Test
    void awkwardFloats_roundTripBitExactThroughTheServer() {
        float[] values = {Float.MIN_VALUE, Float.MAX_VALUE, -0.0f, 5.877472E-39f};
        String data = "[1e-45,3.4028235E38,-0.0,5.877472E-39]";
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":" + data + "}]}";

        HttpResponse<String> r = server.postJson("/v2/models/identity_fp32/infer", body);

        assertEquals(200, r.statusCode(), r.body());
        String expected = "\"data\":[1.4E-45,3.4028235E38,-0.0,5.877472E-39]";
        int at = r.body().indexOf("\"data\":");
        assertEquals(expected, r.body().substring(at, r.body().indexOf(']', at) + 1), r.body());
        String[] texts = expected.substring(expected.indexOf('[') + 1, expected.length() - 1).split(",");
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(Float.parseFloat(texts[i])),
                    texts[i]);
        }
    }
}
