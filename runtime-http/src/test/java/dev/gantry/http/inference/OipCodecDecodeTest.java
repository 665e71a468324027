package dev.gantry.http.inference;

import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OipCodecDecodeTest {
    private final OipCodec codec = new OipCodec(CodecLimits.defaults());

    private DecodedRequest decode(String json) {
        return codec.decodeRequest(Buffer.buffer(json), OptionalLong.empty());
    }

    private Tensor onlyInput(String json) {
        return decode(json).request().inputs().getFirst();
    }

    private static float[] floats(Tensor t) {
        ByteBuffer b = t.data();
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @Test
    void nestedData_decodesToTheSameBytesAsFlatData() {
        Tensor flat = onlyInput("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}""");
        Tensor nested = onlyInput("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}""");

        assertTrue(flat.contentEquals(nested));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, floats(nested));
    }

    @Test
    void threeLevelNesting_matchingShape_isAccepted() {
        Tensor t = onlyInput("""
                {"inputs":[{"name":"x","shape":[2,1,2],"datatype":"INT32","data":[[[1,2]],[[3,4]]]}]}""");

        assertEquals(4, t.elementCount());
        assertEquals(4, t.data().getInt(12));
    }

    @Test
    void dataBeforeShapeAndDatatype_isDecodedTheSame() {
        Tensor t = onlyInput("""
                {"inputs":[{"data":[[0.5,"NaN"],[-2,1e3]],"name":"x","datatype":"FP64","shape":[2,2]}]}""");

        assertEquals(DataType.FP64, t.datatype());
        assertTrue(Double.isNaN(t.data().getDouble(8)));
        assertEquals(1000.0, t.data().getDouble(24));
    }

    @Test
    void fp32Strings_decodeToNonFiniteValues() {
        float[] v = floats(onlyInput("""
                {"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":["NaN","Infinity","-Infinity"]}]}"""));

        assertTrue(Float.isNaN(v[0]));
        assertEquals(Float.POSITIVE_INFINITY, v[1]);
        assertEquals(Float.NEGATIVE_INFINITY, v[2]);
    }

    @Test
    void uint64_acceptsTheFullUnsignedRange() {
        Tensor t = onlyInput("""
                {"inputs":[{"name":"x","shape":[2],"datatype":"UINT64","data":[18446744073709551615,9223372036854775808]}]}""");

        assertEquals(-1L, t.data().getLong(0));
        assertEquals(Long.MIN_VALUE, t.data().getLong(8));
    }

    @Test
    void scalarShape_holdsOneElement() {
        Tensor t = onlyInput("""
                {"inputs":[{"name":"x","shape":[],"datatype":"INT8","data":[7]}]}""");

        assertEquals(0, t.rank());
        assertEquals(7, t.data().get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[[],[]]"})
    void zeroElementTensor_acceptsFlatOrNestedEmptyData(String data) {
        Tensor t = onlyInput("{\"inputs\":[{\"name\":\"x\",\"shape\":[2,0],\"datatype\":\"FP32\",\"data\":" + data + "}]}");

        assertEquals(0, t.elementCount());
    }

    @Test
    void requestFields_mapOntoTheInferenceRequest() {
        DecodedRequest decoded = decode("""
                {"id":"req-7","parameters":{"timeout":2500,"priority":2,"tag":"a","ratio":0.5,"trace":true},
                 "inputs":[{"name":"a","shape":[1],"datatype":"BOOL","data":[true]},
                           {"name":"b","shape":[1],"datatype":"BYTES","data":["hi"],"parameters":{"note":"x"}}],
                 "outputs":[{"name":"sum"},{"name":"aux","parameters":{"binary_data":true}}]}""");
        InferenceRequest r = decoded.request();

        assertEquals("req-7", r.id());
        assertEquals(Optional.of(2500L), r.timeoutMicros());
        assertEquals(Map.of("priority", 2L, "tag", "a", "ratio", 0.5, "trace", true), r.parameters());
        assertEquals(Set.of("sum", "aux"), r.requestedOutputs());
        assertEquals(List.of("a", "b"), r.inputs().stream().map(Tensor::name).toList());
        assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), r.inputs().get(1).strings().getFirst());
        assertTrue(decoded.outputEncoding().isBinary("aux"));
        assertFalse(decoded.outputEncoding().isBinary("sum"));
    }

    @Test
    void binaryDataOutput_makesEveryOutputBinaryUnlessOverridden() {
        OutputEncoding e = decode("""
                {"parameters":{"binary_data_output":true},"inputs":[{"name":"a","shape":[1],"datatype":"INT32","data":[1]}],
                 "outputs":[{"name":"x","parameters":{"binary_data":false}}]}""").outputEncoding();

        assertTrue(e.isBinary("y"));
        assertFalse(e.isBinary("x"));
    }

    @Test
    void unknownKeys_atEveryLevel_areIgnored() {
        InferenceRequest r = decode("""
                {"future":{"a":[1,{"b":2}]},"inputs":[{"name":"a","shape":[1],"datatype":"INT32","data":[1],"extra":[]}],
                 "outputs":[{"name":"o","hint":null}]}""").request();

        assertEquals(1, r.inputs().size());
    }

    @Test
    void absentOptionalFields_leaveDefaults() {
        DecodedRequest d = decode("""
                {"inputs":[{"name":"a","shape":[1],"datatype":"int32","data":[1]}]}""");

        assertEquals("", d.request().id());
        assertEquals(Optional.empty(), d.request().timeoutMicros());
        assertTrue(d.request().requestedOutputs().isEmpty());
        assertEquals(OutputEncoding.json(), d.outputEncoding());
    }

    @Test
    void binaryInputs_areReadInTheirOrderAfterTheHeader_alongsideJsonInputs() {
        String header = """
                {"inputs":[{"name":"a","shape":[2],"datatype":"INT16","parameters":{"binary_data_size":4}},
                           {"name":"j","shape":[1],"datatype":"INT8","data":[5]},
                           {"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}]}""";
        ByteBuffer tail = ByteBuffer.allocate(15).order(ByteOrder.LITTLE_ENDIAN);
        tail.putShort((short) -2).putShort((short) 300).putInt(3).put("abc".getBytes(StandardCharsets.US_ASCII)).putInt(0);
        Buffer body = Buffer.buffer(header).appendBytes(tail.array());

        List<Tensor> in = codec.decodeRequest(body, OptionalLong.of(header.length())).request().inputs();

        assertEquals(List.of("a", "j", "s"), in.stream().map(Tensor::name).toList());
        assertEquals(300, in.get(0).data().getShort(2));
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), in.get(2).strings().get(0));
        assertEquals(0, in.get(2).strings().get(1).length);
    }

    @Test
    void body_thatIsASliceOfALargerBuffer_isReadFromItsOwnBytesOnly() {
        // The decoder reads the array behind the buffer in place: offsets must be the slice's, not the array's.
        String header = "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"INT32\","
                + "\"parameters\":{\"binary_data_size\":8}}]}";
        ByteBuffer raw = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(-9);
        Buffer around = Buffer.buffer("garbage{").appendString(header).appendBytes(raw.array()).appendString("}]x");
        Buffer body = around.slice(8, 8 + header.length() + 8);

        Tensor t = codec.decodeRequest(body, OptionalLong.of(header.length())).request().inputs().getFirst();

        assertEquals(8, t.data().remaining());
        assertEquals(7, t.data().getInt(0));
        assertEquals(-9, t.data().getInt(4));
    }

    @Test
    void fp32TensorOf600KB_inBinary_decodesExactly() {
        int n = 150_000;
        ByteBuffer raw = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            raw.putFloat(i * 0.25f - 7f);
        }
        String header = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1500,100],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":" + 4 * n + "}}]}";
        Buffer body = Buffer.buffer(header).appendBytes(raw.array());

        Tensor t = codec.decodeRequest(body, OptionalLong.of(header.length())).request().inputs().getFirst();

        assertEquals(raw.flip(), t.data());
        assertEquals(149_999 * 0.25f - 7f, t.data().getFloat(4 * (n - 1)));
    }

    @Test
    void fp32TensorOf600KB_inJson_decodesExactly() {
        int n = 150_000;
        StringBuilder json = new StringBuilder("{\"inputs\":[{\"name\":\"features\",\"shape\":[1500,100],"
                + "\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < n; i++) {
            json.append(i == 0 ? "" : ",").append(i * 0.1f);
        }
        json.append("]}]}");

        float[] v = floats(onlyInput(json.toString()));

        assertEquals(n, v.length);
        assertEquals(149_999 * 0.1f, v[n - 1]);
    }

    @Test
    void headerLengthParsing_acceptsDigitsAndAbsence() {
        assertEquals(OptionalLong.of(42), OipCodec.headerLength(" 42 "));
        assertEquals(OptionalLong.empty(), OipCodec.headerLength(null));
    }
}
