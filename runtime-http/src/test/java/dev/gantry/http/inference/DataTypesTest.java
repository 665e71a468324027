package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every datatype the sample models use, through real ONNX Runtime, in JSON and in the binary extension. */
class DataTypesTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    static Stream<Arguments> identities() {
        return Stream.of(
                Arguments.of("identity_bool", "BOOL", "[true,false,true,true]"),
                Arguments.of("identity_int8", "INT8", "[-128,0,5,127]"),
                Arguments.of("identity_int16", "INT16", "[-32768,1,2,32767]"),
                Arguments.of("identity_int32", "INT32", "[-2147483648,0,7,2147483647]"),
                Arguments.of("identity_int64", "INT64", "[-9223372036854775808,0,1,9223372036854775807]"),
                Arguments.of("identity_uint8", "UINT8", "[0,1,200,255]"),
                Arguments.of("identity_fp16", "FP16", "[0.5,-2.0,1024.0,0.25]"),
                Arguments.of("identity_fp32", "FP32", "[1.5,-0.25,3.4028235E38,1.0E-7]"),
                Arguments.of("identity_fp64", "FP64", "[1.0E300,-2.5,0.1,3.0]"),
                Arguments.of("identity_string", "BYTES", "[\"h\u00e9llo\",\"\",\"a\",\"zz\"]"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("identities")
    void identity_json_returnsTheSameValues(String model, String datatype, String data) {
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,2],\"datatype\":\"" + datatype + "\",\"data\":"
                + data + "}]}";
        HttpResponse<String> r = server.postJson("/v2/models/" + model + "/infer", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = Bodies.parse(r.body()).get("outputs").get(0);
        assertEquals(datatype, out.get("datatype").asText());
        assertEquals("[2,2]", out.get("shape").toString());
        assertEquals(Bodies.parse(data), out.get("data"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("identities")
    void identity_binary_returnsTheSameBytes(String model, String datatype, String data) {
        // Ask for JSON once to learn the exact raw bytes, then send those bytes in binary and expect them back.
        String jsonBody = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,2],\"datatype\":\"" + datatype
                + "\",\"data\":" + data + "}],\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}";
        HttpResponse<byte[]> viaJson = server.post("/v2/models/" + model + "/infer",
                jsonBody.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
        assertEquals(200, viaJson.statusCode(), new String(viaJson.body(), StandardCharsets.UTF_8));
        int h1 = Integer.parseInt(viaJson.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        byte[] raw = Arrays.copyOfRange(viaJson.body(), h1, viaJson.body().length);

        String header = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,2],\"datatype\":\"" + datatype
                + "\",\"parameters\":{\"binary_data_size\":" + raw.length + "}}],"
                + "\"parameters\":{\"binary_data_output\":true}}";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        body.writeBytes(hb);
        body.writeBytes(raw);
        HttpResponse<byte[]> r = server.post("/v2/models/" + model + "/infer", body.toByteArray(), Map.of(
                "Content-Type", "application/octet-stream", "Inference-Header-Content-Length", "" + hb.length));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("application/octet-stream", r.headers().firstValue("Content-Type").orElseThrow());
        int h2 = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        assertArrayEquals(raw, Arrays.copyOfRange(r.body(), h2, r.body().length));
    }

    static Stream<Arguments> adds() {
        return Stream.of(
                Arguments.of("add_int32", "INT32", "[1,2,3,4]", "[10,20,30,-4]", "[11,22,33,0]"),
                Arguments.of("add_int64", "INT64", "[1,2,3,4]", "[10,20,30,-4]", "[11,22,33,0]"),
                Arguments.of("add_fp16", "FP16", "[1.0,2.0,0.5,-1.0]", "[2.0,0.5,0.25,1.0]", "[3.0,2.5,0.75,0.0]"),
                Arguments.of("add_fp64", "FP64", "[1.0,2.0,0.5,-1.0]", "[2.0,0.5,0.25,1.0]", "[3.0,2.5,0.75,0.0]"),
                Arguments.of("add_fp32", "FP32", "[1.0,2.0,0.5,-1.0]", "[2.0,0.5,0.25,1.0]", "[3.0,2.5,0.75,0.0]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("adds")
    void add_twoInputs_returnsTheirSum(String model, String datatype, String a, String b, String sum) {
        String shape = model.equals("add_fp32") ? "[1,4]" : "[2,2]";
        String body = "{\"inputs\":[{\"name\":\"a\",\"shape\":" + shape + ",\"datatype\":\"" + datatype + "\",\"data\":"
                + a + "},{\"name\":\"b\",\"shape\":" + shape + ",\"datatype\":\"" + datatype + "\",\"data\":" + b
                + "}]}";
        HttpResponse<String> r = server.postJson("/v2/models/" + model + "/infer", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = Bodies.parse(r.body()).get("outputs").get(0);
        assertEquals("sum", out.get("name").asText());
        assertEquals(Bodies.parse(sum), out.get("data"));
    }

    @Test
    void nestedJsonData_isReadRowMajor() {
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,3],\"datatype\":\"INT64\","
                + "\"data\":[[1,2,3],[4,5,6]]}]}";
        HttpResponse<String> r = server.postJson("/v2/models/identity_int64/infer", body);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("[1,2,3,4,5,6]", Bodies.parse(r.body()).get("outputs").get(0).get("data").toString());
    }

    @Test
    void dynamicSecondDimension_acceptsAnyLength() {
        for (int n : new int[] {1, 7, 300}) {
            float[] x = Bodies.randomFloats(2 * n, n);
            HttpResponse<String> r = server.postJson("/v2/models/scale_dynamic/infer",
                    Bodies.fp32Request("x", new long[] {2, n}, x, null));
            assertEquals(200, r.statusCode(), r.body());
            float[] y = Bodies.floats(Bodies.parse(r.body()).get("outputs").get(0).get("data"));
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i] * 2, y[i]);
            }
        }
    }

    @Test
    void fixedShapeModel_takesExactlyItsShape() {
        HttpResponse<String> ok = server.postJson("/v2/models/fixed_shape/infer",
                Bodies.fp32Request("x", new long[] {2, 3}, new float[] {-1, 2, -3, 4, -5, 6}, null));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("[0.0,2.0,0.0,4.0,0.0,6.0]", Bodies.parse(ok.body()).get("outputs").get(0).get("data").toString());
        HttpResponse<String> wrong = server.postJson("/v2/models/fixed_shape/infer",
                Bodies.fp32Request("x", new long[] {1, 3}, new float[] {1, 2, 3}, null));
        assertEquals(400, wrong.statusCode());
        assertTrue(Bodies.parse(wrong.body()).get("error").asText().contains("expects shape [2, 3]"), wrong.body());
    }

    @Test
    void uint32Input_isReportedInMetadataAndRefusedWith400NamingTheInput() {
        JsonNode meta = Bodies.parse(server.get("/v2/models/identity_uint32").body());
        JsonNode in = meta.get("inputs").get(0);
        assertEquals("UINT32", in.get("datatype").asText());
        assertTrue(in.get("unsupported").asText().contains("cannot create"), in.toString());
        HttpResponse<String> r = server.postJson("/v2/models/identity_uint32/infer",
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"UINT32\",\"data\":[1,2,3,4]}]}");
        assertEquals(400, r.statusCode());
        assertTrue(Bodies.parse(r.body()).get("error").asText().contains("input 'input'"), r.body());
    }
}
