package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every class of malformed request is refused with INVALID_ARG and a message that says what to fix. */
class OipCodecRejectsTest {
    private final OipCodec codec = new OipCodec(CodecLimits.defaults());

    private static String input(String fields) {
        return "{\"inputs\":[{" + fields + "}]}";
    }

    private static String fp32(String shape, String data) {
        return input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":" + shape + ",\"data\":" + data);
    }

    private static String typed(String type, String data) {
        return input("\"name\":\"x\",\"datatype\":\"" + type + "\",\"shape\":[1],\"data\":" + data);
    }

    static Stream<Arguments> malformedJson() {
        return Stream.of(
                Arguments.of("empty body", "", "request body is empty"),
                Arguments.of("whitespace body", "  \n", "request body is empty"),
                Arguments.of("array root", "[]", "request body must be a JSON object, got an array"),
                Arguments.of("string root", "\"hi\"", "request body must be a JSON object, got string \"hi\""),
                Arguments.of("truncated", "{\"inputs\":[{\"name\":\"x\"", "request JSON is malformed at line 1"),
                Arguments.of("trailing comma", "{\"inputs\":[],}", "request JSON is malformed"),
                Arguments.of("trailing object", fp32("[1]", "[1]") + "{}", "content after the JSON object"),
                Arguments.of("trailing garbage", fp32("[1]", "[1]") + "xyz", "request JSON is malformed"),
                Arguments.of("single quotes", "{'inputs':[]}", "request JSON is malformed"),
                Arguments.of("NaN literal", fp32("[1]", "[NaN]"), "request JSON is malformed"),
                Arguments.of("duplicate key", "{\"id\":\"a\",\"id\":\"b\",\"inputs\":[]}", "Duplicate field 'id'"),
                Arguments.of("deep nesting", "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}",
                        "request JSON nests deeper than 64 levels"));
    }

    static Stream<Arguments> malformedStructure() {
        return Stream.of(
                Arguments.of("no inputs", "{\"id\":\"a\"}", "request is missing 'inputs'"),
                Arguments.of("empty inputs", "{\"inputs\":[]}", "request 'inputs' is empty"),
                Arguments.of("inputs object", "{\"inputs\":{}}", "'inputs' must be an array of input tensors, got an object"),
                Arguments.of("input not object", "{\"inputs\":[1]}", "inputs[0] must be an object, got number 1"),
                Arguments.of("id number", "{\"id\":5," + fp32("[1]", "[1]").substring(1), "'id' must be a string, got number 5"),
                Arguments.of("missing name", input("\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]"), "inputs[0] is missing 'name'"),
                Arguments.of("name number", input("\"name\":3,\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]"), "inputs[0].name must be a string"),
                Arguments.of("missing datatype", input("\"name\":\"x\",\"shape\":[1],\"data\":[1]"), "input 'x' is missing 'datatype'"),
                Arguments.of("missing shape", input("\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1]"), "input 'x' is missing 'shape'"),
                Arguments.of("unknown datatype", typed("FP8", "[1]"), "input 'x' has unknown datatype 'FP8'; expected one of [BOOL,"),
                Arguments.of("datatype number", input("\"name\":\"x\",\"datatype\":32,\"shape\":[1],\"data\":[1]"), "input 'x' datatype must be a string"),
                Arguments.of("neither data nor binary", input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1]"), "input 'x' has neither 'data' nor parameters.binary_data_size"),
                Arguments.of("data and binary", input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1],\"parameters\":{\"binary_data_size\":4}"), "input 'x' has both 'data' and parameters.binary_data_size"),
                Arguments.of("duplicate input", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}", "input 'x' appears more than once"),
                Arguments.of("data object", fp32("[1]", "{}"), "input 'x' data must be an array, got an object"),
                Arguments.of("outputs object", "{\"outputs\":{}," + fp32("[1]", "[1]").substring(1), "'outputs' must be an array"),
                Arguments.of("output without name", "{\"outputs\":[{}]," + fp32("[1]", "[1]").substring(1), "outputs[0] is missing 'name'"),
                Arguments.of("duplicate output", "{\"outputs\":[{\"name\":\"o\"},{\"name\":\"o\"}]," + fp32("[1]", "[1]").substring(1), "output 'o' is requested more than once"),
                Arguments.of("binary_data string", "{\"outputs\":[{\"name\":\"o\",\"parameters\":{\"binary_data\":\"yes\"}}]," + fp32("[1]", "[1]").substring(1), "outputs[0] parameter 'binary_data' must be true or false"));
    }

    static Stream<Arguments> malformedShapesAndCounts() {
        return Stream.of(
                Arguments.of("negative dim", fp32("[-1,2]", "[1,2]"), "input 'x' shape must be an array of non-negative integers, got number -1 at position 0"),
                Arguments.of("fractional dim", fp32("[1.5]", "[1]"), "got number 1.5 at position 0"),
                Arguments.of("string dim", fp32("[\"2\"]", "[1,2]"), "got string \"2\" at position 0"),
                Arguments.of("shape not array", fp32("4", "[1,2,3,4]"), "input 'x' shape must be an array of non-negative integers, got number 4"),
                Arguments.of("huge dim literal", fp32("[99999999999999999999]", "[1]"), "got number 99999999999999999999"),
                Arguments.of("count overflow", fp32("[4294967296,4294967296]", "[1]"), "has more elements than fit in a 64-bit count"),
                Arguments.of("too few flat", fp32("[2,2]", "[1,2,3]"), "input 'x' data has 3 elements but shape [2, 2] needs 4"),
                Arguments.of("too many flat", fp32("[3]", "[1,2,3,4]"), "input 'x' data has more than 3 elements"),
                Arguments.of("nested too many rows", fp32("[2,2]", "[[1,2],[3,4],[5,6]]"), "at depth 0 (dimension 2) found more than 2 entries"),
                Arguments.of("nested short row", fp32("[2,2]", "[[1,2],[3]]"), "at depth 1 (dimension 2) found 1 entries"),
                Arguments.of("nested too deep", fp32("[1,2]", "[[[1],[2]]]"), "found an array where a value belongs"),
                Arguments.of("nested too shallow", fp32("[1,1,2]", "[[1,2]]"), "found number 1 where an array belongs"),
                Arguments.of("mixed flat and nested", fp32("[1,4]", "[1,[2,3],4]"), "mixes nested arrays and values at element 1"),
                Arguments.of("ragged", fp32("[2,2]", "[[1,2],3]"), "found number 3 where an array belongs"),
                Arguments.of("nested for rank 0", fp32("[]", "[[1]]"), "data mixes nested arrays and values at element 0"));
    }

    static Stream<Arguments> malformedElements() {
        return Stream.of(
                Arguments.of("string in fp32", fp32("[2]", "[1,\"abc\"]"), "input 'x' element 1: FP32 expects a number or \"NaN\", \"Infinity\", \"-Infinity\", got string \"abc\""),
                Arguments.of("lowercase nan", fp32("[1]", "[\"nan\"]"), "got string \"nan\""),
                Arguments.of("null in fp32", fp32("[1]", "[null]"), "input 'x' element 0: FP32 expects a number"),
                Arguments.of("bool in fp32", fp32("[1]", "[true]"), "got boolean true"),
                Arguments.of("fp32 overflow", fp32("[1]", "[1e39]"), "input 'x' element 0: 1e39 is out of range for FP32"),
                Arguments.of("fp16 overflow", typed("FP16", "[70000]"), "70000 is out of range for FP16 (largest magnitude 65504)"),
                Arguments.of("fp64 overflow", typed("FP64", "[1e400]"), "1e400 is out of range for FP64"),
                Arguments.of("int8 over", typed("INT8", "[128]"), "input 'x' element 0: 128 is out of range for INT8 (-128..127)"),
                Arguments.of("int8 under", typed("INT8", "[-129]"), "-129 is out of range for INT8"),
                Arguments.of("uint8 negative", typed("UINT8", "[-1]"), "-1 is out of range for UINT8 (0..255)"),
                Arguments.of("uint8 over", typed("UINT8", "[256]"), "256 is out of range for UINT8"),
                Arguments.of("int16 over", typed("INT16", "[32768]"), "out of range for INT16"),
                Arguments.of("uint16 over", typed("UINT16", "[65536]"), "out of range for UINT16"),
                Arguments.of("int32 over", typed("INT32", "[2147483648]"), "out of range for INT32"),
                Arguments.of("uint32 over", typed("UINT32", "[4294967296]"), "out of range for UINT32"),
                Arguments.of("int64 over", typed("INT64", "[9223372036854775808]"), "9223372036854775808 is out of range for INT64"),
                Arguments.of("uint64 over", typed("UINT64", "[18446744073709551616]"), "out of range for UINT64 (0..18446744073709551615)"),
                Arguments.of("uint64 negative", typed("UINT64", "[-1]"), "-1 is out of range for UINT64"),
                Arguments.of("fraction in int", typed("INT32", "[1.5]"), "INT32 expects an integer, got number 1.5"),
                Arguments.of("string in int", typed("INT64", "[\"1\"]"), "INT64 expects an integer, got string \"1\""),
                Arguments.of("number in bool", typed("BOOL", "[1]"), "BOOL expects true or false, got number 1"),
                Arguments.of("number in bytes", typed("BYTES", "[1]"), "BYTES expects a string, got number 1"),
                Arguments.of("object element", typed("INT32", "[{}]"), "INT32 expects an integer, got an object"));
    }

    static Stream<Arguments> malformedParameters() {
        return Stream.of(
                Arguments.of("timeout negative", "{\"parameters\":{\"timeout\":-1}," + fp32("[1]", "[1]").substring(1), "parameter 'timeout' (queue timeout in microseconds) must be a non-negative integer, got number -1"),
                Arguments.of("timeout string", "{\"parameters\":{\"timeout\":\"5\"}," + fp32("[1]", "[1]").substring(1), "must be a non-negative integer, got string \"5\""),
                Arguments.of("timeout object", "{\"parameters\":{\"timeout\":{}}," + fp32("[1]", "[1]").substring(1), "got an object"),
                Arguments.of("timeout fraction", "{\"parameters\":{\"timeout\":1.5}," + fp32("[1]", "[1]").substring(1), "got number 1.5"),
                Arguments.of("parameters array", "{\"parameters\":[]," + fp32("[1]", "[1]").substring(1), "request 'parameters' must be an object, got an array"),
                Arguments.of("parameter object value", "{\"parameters\":{\"k\":{}}," + fp32("[1]", "[1]").substring(1), "parameter 'k' must be a string, number or boolean, got an object"),
                Arguments.of("parameter null value", "{\"parameters\":{\"k\":null}," + fp32("[1]", "[1]").substring(1), "parameter 'k' must be a string, number or boolean, got null"),
                Arguments.of("binary_data_output string", "{\"parameters\":{\"binary_data_output\":\"true\"}," + fp32("[1]", "[1]").substring(1), "parameter 'binary_data_output' must be true or false"),
                Arguments.of("input parameter array", input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1],\"parameters\":{\"a\":[1]}"), "input 'x' parameter 'a' must be a string, number or boolean, got an array"),
                Arguments.of("binary size negative", input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"parameters\":{\"binary_data_size\":-4}"), "input 'x' parameter 'binary_data_size' must be a non-negative integer"),
                Arguments.of("binary without header", input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"parameters\":{\"binary_data_size\":4}"), "input 'x' sets binary_data_size but the request has no Inference-Header-Content-Length header"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"malformedJson", "malformedStructure", "malformedShapesAndCounts", "malformedElements",
            "malformedParameters"})
    void malformedJsonRequest_isInvalidArgument_withMessage(String description, String body, String message) {
        assertRejected(Buffer.buffer(body), OptionalLong.empty(), message);
    }

    static Stream<Arguments> illFormedUtf8() {
        return Stream.of(
                Arguments.of("0xFF byte", new byte[] {(byte) 0xFF}),
                Arguments.of("overlong NUL", new byte[] {(byte) 0xC0, (byte) 0x80}),
                Arguments.of("overlong slash", new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}),
                Arguments.of("encoded surrogate", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}),
                Arguments.of("above U+10FFFF", new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}),
                Arguments.of("truncated sequence", new byte[] {(byte) 0xE2, (byte) 0x82}),
                Arguments.of("lone continuation", new byte[] {(byte) 0x80}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("illFormedUtf8")
    void illFormedUtf8InAString_isRejectedWithItsOffset(String description, byte[] sequence) {
        String json = typed("BYTES", "[\"a@\"]");
        int at = json.indexOf('@');
        Buffer body = Buffer.buffer(json.substring(0, at)).appendBytes(sequence).appendString(json.substring(at + 1));

        assertRejected(body, OptionalLong.empty(), "request JSON is not valid UTF-8: ill-formed byte sequence at offset " + at);
    }

    @Test
    void wellFormedMultibyteUtf8_isAccepted() {
        String json = typed("BYTES", "[\"h\u00e9 \u65e5 \ud83d\ude00\"]");

        byte[] element = codec.decodeRequest(Buffer.buffer(json), OptionalLong.empty()).request().inputs().getFirst()
                .strings().getFirst();

        assertEquals("h\u00e9 \u65e5 \ud83d\ude00", new String(element, StandardCharsets.UTF_8));
    }

    private static final String BINARY_FP32 = input(
            "\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":8}");

    private static Buffer withTail(String header, int tailBytes) {
        return Buffer.buffer(header).appendBytes(new byte[tailBytes]);
    }

    static Stream<Arguments> malformedBinary() {
        int h = BINARY_FP32.length();
        return Stream.of(
                Arguments.of("header length beyond body", withTail(BINARY_FP32, 8), h + 9L, "Inference-Header-Content-Length is " + (h + 9) + " but the body has " + (h + 8) + " bytes"),
                Arguments.of("header length negative", withTail(BINARY_FP32, 8), -1L, "Inference-Header-Content-Length must be non-negative, got -1"),
                Arguments.of("header length too small", withTail(BINARY_FP32, 8), h - 3L, "request JSON is malformed"),
                Arguments.of("header length zero", withTail(BINARY_FP32, 8), 0L, "request body is empty"),
                Arguments.of("header length cuts into binary", withTail(BINARY_FP32, 8), h + 2L, "request JSON is malformed"),
                Arguments.of("truncated binary body", withTail(BINARY_FP32, 5), (long) h, "adds up to more than 5 bytes but the body carries 5 bytes after its " + h + "-byte JSON header"),
                Arguments.of("extra binary bytes", withTail(BINARY_FP32, 9), (long) h, "adds up to 8 bytes but the body carries 9 bytes"),
                Arguments.of("size disagrees with shape", withTail(input("\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":12}"), 12), -2L, "input 'x' binary_data_size is 12 but FP32[2] needs exactly 8 bytes"),
                Arguments.of("bytes size below prefixes", withTail(input("\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[3],\"parameters\":{\"binary_data_size\":8}"), 8), -2L, "input 's' binary_data_size is 8 but 3 BYTES elements need at least 12 bytes"),
                Arguments.of("bytes prefix overruns", bytesBody(2, 0, 100), -2L, "input 's' BYTES element 1 declares 100 bytes but only 0 remain"),
                Arguments.of("bytes huge prefix", bytesBody(1, -1), -2L, "declares 4294967295 bytes"),
                Arguments.of("bytes too many elements", bytesBody(2, 4, 0, 0, 0, 0), -2L, "binary data holds more than the 2 BYTES elements"),
                Arguments.of("bytes truncated prefix", bytesBodyRaw(2, new byte[] {3, 0, 0, 0, 'a', 'b', 'c', 9}), -2L, "BYTES element 1 has a truncated length prefix"),
                Arguments.of("bytes fewer than shape", bytesBodyRaw(2, new byte[] {4, 0, 0, 0, 'a', 'b', 'c', 'd'}), -2L, "binary data holds 1 BYTES elements but shape [2] needs 2"),
                Arguments.of("no binary inputs but tail", withTail(fp32("[1]", "[1]"), 3), (long) fp32("[1]", "[1]").length(), "adds up to 0 bytes but the body carries 3 bytes"));
    }

    /** A BYTES input 's' with {@code count} elements whose binary part is the given little-endian ints. */
    private static Buffer bytesBody(int count, int... ints) {
        ByteBuffer b = ByteBuffer.allocate(4 * ints.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i : ints) {
            b.putInt(i);
        }
        return bytesBodyRaw(count, b.array());
    }

    private static Buffer bytesBodyRaw(int count, byte[] tail) {
        String header = input("\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[" + count
                + "],\"parameters\":{\"binary_data_size\":" + tail.length + "}");
        return Buffer.buffer(header).appendBytes(tail);
    }

    /** headerLength -2 stands for "the length of the JSON part", found by its closing brackets. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBinary")
    void malformedBinaryRequest_isInvalidArgument_withMessage(String description, Buffer body, long headerLength,
                                                             String message) {
        long length = headerLength == -2L ? body.toString(StandardCharsets.ISO_8859_1).indexOf("}]}") + 3 : headerLength;
        assertRejected(body, OptionalLong.of(length), message);
    }

    @Test
    void nonNumericHeaderLength_isInvalidArgument() {
        GantryException e = assertThrows(GantryException.class, () -> OipCodec.headerLength("12abc"));

        assertEquals("Inference-Header-Content-Length must be a non-negative integer, got '12abc'", e.getMessage());
    }

    @Test
    void negativeHeaderLengthText_isInvalidArgument() {
        assertThrows(GantryException.class, () -> OipCodec.headerLength("-5"));
    }

    private void assertRejected(Buffer body, OptionalLong headerLength, String message) {
        GantryException e = assertThrows(GantryException.class, () -> codec.decodeRequest(body, headerLength));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains(message), () -> "expected '" + message + "' in: " + e.getMessage());
    }
}
