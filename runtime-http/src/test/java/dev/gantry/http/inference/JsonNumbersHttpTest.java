package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Numbers in JSON tensor data over real HTTP: the exact element bits the model receives (read back from an
 * identity model as raw bytes) and the exact status and message for numbers the tensor's type cannot hold.
 */
class JsonNumbersHttpTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    private static String body(String datatype, String data, boolean binaryOutput) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,2],\"datatype\":\"" + datatype + "\",\"data\":" + data
                + "}]" + (binaryOutput ? ",\"parameters\":{\"binary_data_output\":true}" : "") + "}";
    }

    static Stream<Arguments> exactValues() {
        return Stream.of(
                Arguments.of("FP32", "[16777217.0,-0,-0.0,1E-7]", new long[] {
                    Float.floatToRawIntBits(16777216f), 0, Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(1e-7f)}),
                Arguments.of("FP32", "[1.00000005960464477539,1.4e-45,0.1e+2,3.4028235E38]", new long[] {
                    Float.floatToRawIntBits(1.0f), 1, Float.floatToRawIntBits(10f),
                    Float.floatToRawIntBits(Float.MAX_VALUE)}),
                Arguments.of("FP32", "[9007199254740993,1e22,1e23,1e-23]", new long[] {
                    Float.floatToRawIntBits(9.0071993e15f), Float.floatToRawIntBits(1e22f),
                    Float.floatToRawIntBits(1e23f), Float.floatToRawIntBits(1e-23f)}),
                Arguments.of("FP64", "[9007199254740993,1e22,1e23,4.9e-324]", new long[] {
                    Double.doubleToRawLongBits(9007199254740992.0), Double.doubleToRawLongBits(1e22),
                    Double.doubleToRawLongBits(1e23), 1}),
                Arguments.of("FP64", "[-0,-0.0,0.30000000000000004,1e5]", new long[] {
                    0, Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(0.30000000000000004),
                    Double.doubleToRawLongBits(1e5)}),
                Arguments.of("INT64", "[-0,999999999999999999,-9223372036854775808,9223372036854775807]", new long[] {
                    0, 999_999_999_999_999_999L, Long.MIN_VALUE, Long.MAX_VALUE}),
                Arguments.of("INT8", "[-128,127,-0,0]", new long[] {-128, 127, 0, 0}));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("exactValues")
    void numbers_reachTheModelAsTheCorrectlyRoundedBits(String datatype, String data, long[] expected) {
        String model = "identity_" + datatype.toLowerCase();
        HttpResponse<byte[]> r = server.post("/v2/models/" + model + "/infer",
                body(datatype, data, true).getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int header = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        ByteBuffer raw = ByteBuffer.wrap(Arrays.copyOfRange(r.body(), header, r.body().length))
                .order(ByteOrder.LITTLE_ENDIAN);
        long[] actual = new long[expected.length];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = switch (datatype) {
                case "FP32" -> raw.getInt(4 * i);
                case "FP64", "INT64" -> raw.getLong(8 * i);
                case "INT8" -> raw.get(i);
                default -> throw new IllegalArgumentException(datatype);
            };
        }
        assertEquals(Arrays.toString(expected), Arrays.toString(actual));
    }

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                Arguments.of("FP32", "[1,2,3,1e39]", "input 'input' element 3: 1e39 is out of range for FP32"),
                Arguments.of("FP32", "[1,2,3,-3.5e38]", "input 'input' element 3: -3.5e38 is out of range for FP32"),
                Arguments.of("FP16", "[1,2,65520,4]", "input 'input' element 2: 65520 is out of range for FP16"),
                Arguments.of("FP64", "[1e400,2,3,4]", "input 'input' element 0: 1e400 is out of range for FP64"),
                Arguments.of("INT8", "[1,128,3,4]", "input 'input' element 1: 128 is out of range for INT8 (-128..127)"),
                Arguments.of("INT32", "[1,2,-2147483649,4]", "-2147483649 is out of range for INT32"),
                Arguments.of("INT64", "[1,2,3,9223372036854775808]",
                        "9223372036854775808 is out of range for INT64"),
                Arguments.of("INT64", "[1,2,3,1.0]", "input 'input' element 3: INT64 expects an integer, got number 1.0"),
                Arguments.of("INT8", "[1,2,3,1e2]", "INT8 expects an integer, got number 1e2"),
                Arguments.of("INT32", "[true,2,3,4]", "INT32 expects an integer, got boolean true"),
                Arguments.of("BOOL", "[true,1,true,true]", "BOOL expects true or false, got number 1"),
                Arguments.of("FP32", "[1,2,3,true]", "FP32 expects a number or \"NaN\", \"Infinity\", \"-Infinity\""),
                Arguments.of("FP32", "[1,2,3,01]", "request JSON is malformed"),
                Arguments.of("FP32", "[1,2,3,1.]", "request JSON is malformed"),
                Arguments.of("FP32", "[1,2,3,.5]", "request JSON is malformed"),
                Arguments.of("FP32", "[1,2,3,+1]", "request JSON is malformed"),
                Arguments.of("FP32", "[1,2,3,1e]", "request JSON is malformed"),
                Arguments.of("FP32", "[1,2,3,NaN]", "request JSON is malformed"),
                Arguments.of("FP64", "[1,2,3,-]", "request JSON is malformed"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusedValues")
    void numbersTheTypeCannotHold_areRefusedWith400NamingTheElement(String datatype, String data, String message) {
        String model = "identity_" + datatype.toLowerCase();
        HttpResponse<String> r = server.postJson("/v2/models/" + model + "/infer", body(datatype, data, false));
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = Bodies.parse(r.body()).get("error");
        assertTrue(error.asText().contains(message), error.asText());
    }
}
