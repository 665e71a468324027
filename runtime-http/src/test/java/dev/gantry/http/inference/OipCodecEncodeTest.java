package dev.gantry.http.inference;

import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelId;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OipCodecEncodeTest {
    private final OipCodec codec = new OipCodec(CodecLimits.defaults());

    private static Tensor fp32(String name, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.of(name, DataType.FP32, new long[] {values.length}, b.flip());
    }

    private String json(InferenceResponse r) {
        EncodedResponse e = codec.encodeResponse(r, OutputEncoding.json());
        assertEquals(OptionalLong.empty(), e.headerLength());
        return e.body().toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonResponse_carriesModelVersionAsStringAndEchoesId() {
        String body = json(new InferenceResponse(new ModelId("mlp", 2), "abc", List.of(fp32("scores", 0.5f))));

        assertEquals("{\"model_name\":\"mlp\",\"model_version\":\"2\",\"id\":\"abc\",\"outputs\":[{\"name\":\"scores\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[0.5]}]}", body);
    }

    @Test
    void emptyId_isOmitted() {
        String body = json(new InferenceResponse(new ModelId("m", 1), "", List.of(fp32("o", 1f))));

        assertEquals(-1, body.indexOf("\"id\""));
    }

    @Test
    void nonFiniteFloats_areWrittenAsStrings() {
        String body = json(new InferenceResponse(new ModelId("m", 1), "",
                List.of(fp32("o", Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.1f))));

        assertTrue(body.contains("\"data\":[\"NaN\",\"Infinity\",\"-Infinity\",0.1]"), body);
    }

    @Test
    void uint64AboveLongMax_isWrittenUnsigned() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).flip();
        String body = json(new InferenceResponse(new ModelId("m", 1), "",
                List.of(Tensor.of("o", DataType.UINT64, new long[] {1}, b))));

        assertTrue(body.contains("\"data\":[18446744073709551615]"), body);
    }

    @Test
    void binaryOutput_isAppendedAfterTheHeader_withItsSizeInParameters() {
        Tensor s = Tensor.ofStrings("s", new long[] {1}, List.of("xyz".getBytes(StandardCharsets.UTF_8)));
        InferenceResponse r = new InferenceResponse(new ModelId("m", 1), "", List.of(fp32("f", 1f), s));

        EncodedResponse e = codec.encodeResponse(r, new OutputEncoding(false, Map.of("s", true)));
        int h = (int) e.headerLength().orElseThrow();
        String header = e.body().getString(0, h);

        assertTrue(header.contains("{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[1],"
                + "\"parameters\":{\"binary_data_size\":7}}"), header);
        assertArrayEquals(new byte[] {3, 0, 0, 0, 'x', 'y', 'z'}, e.body().getBytes(h, e.body().length()));
    }
}
