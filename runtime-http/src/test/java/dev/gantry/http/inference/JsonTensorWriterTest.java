package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** writeNumbers puts into the body exactly the text Jackson's generator wrote for the same tensor. */
class JsonTensorWriterTest {
    private static final JsonFactory JACKSON = JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    /** Random bit patterns plus each type's awkward values (zeros, extremes, NaN, infinities, subnormals). */
    private static Tensor tensor(DataType type) {
        int count = 5_000;
        ByteBuffer b = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FP32 -> {
                for (float v : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE,
                        Float.MIN_NORMAL, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-45f,
                        0.1f, 1e7f, 1e-3f}) {
                    b.putFloat(v);
                }
            }
            case FP64 -> {
                for (double v : new double[] {0d, -0d, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
                        Double.NEGATIVE_INFINITY, 0.1, 2e23}) {
                    b.putDouble(v);
                }
            }
            case INT64, UINT64 -> {
                for (long v : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 10, 9}) {
                    b.putLong(v);
                }
            }
            case INT32, UINT32 -> {
                for (int v : new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 10}) {
                    b.putInt(v);
                }
            }
            default -> {
            }
        }
        SplittableRandom random = new SplittableRandom(type.ordinal());
        while (b.hasRemaining()) {
            b.put((byte) random.nextInt());
        }
        return Tensor.of("t", type, new long[] {count}, b.flip());
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
    void writeNumbers_writesTheSameTextAsTheGenerator(DataType type) throws IOException {
        Tensor t = tensor(type);
        Buffer expected = Buffer.buffer();
        try (JsonGenerator g = JACKSON.createGenerator(new BufferOutputStream(expected))) {
            JsonTensorWriter.write(g, t, null);
        }
        Buffer actual = Buffer.buffer();

        JsonTensorWriter.writeNumbers(actual, t);

        assertEquals(expected.toString(StandardCharsets.UTF_8), actual.toString(StandardCharsets.UTF_8));
    }

    /** The generator path writes floats with FloatText; the reference here is Jackson's own number writer. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FP32", "FP16"})
    void write_floats_sameTextAsJacksonsNumberWriter(DataType type) throws IOException {
        Tensor t = tensor(type);
        Buffer expected = Buffer.buffer();
        try (JsonGenerator g = JACKSON.createGenerator(new BufferOutputStream(expected))) {
            g.writeStartArray();
            ByteBuffer b = t.data();
            while (b.hasRemaining()) {
                float v = type == DataType.FP32 ? b.getFloat() : Float.float16ToFloat(b.getShort());
                if (Float.isFinite(v)) {
                    g.writeNumber(v);
                } else {
                    g.writeString(Float.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
                }
            }
            g.writeEndArray();
        }
        Buffer actual = Buffer.buffer();

        try (JsonGenerator g = JACKSON.createGenerator(new BufferOutputStream(actual))) {
            JsonTensorWriter.write(g, t, null);
        }

        assertEquals(expected.toString(StandardCharsets.UTF_8), actual.toString(StandardCharsets.UTF_8));
    }

    /**
     * Model-like FP32 outputs (the four-at-a-time path) of every length up to 9 and an answer's 6,144, with NaN,
     * the infinities, integers, powers of two and subnormals at random places: Float.toString's text throughout.
     */
    @Test
    void writeNumbers_fp32ModelOutputs_ofEveryLength_areFloatToStringsText() {
        SplittableRandom random = new SplittableRandom(6144);
        float[] awkward = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1.0f, -0.5f, 0.0f, -0.0f,
                1.4E-45f, 3.0f, 1.0E-4f, 12345.678f};
        for (int count : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 6144}) {
            for (int round = 0; round < 20; round++) {
                ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
                StringBuilder expected = new StringBuilder("[");
                for (int i = 0; i < count; i++) {
                    float v = random.nextInt(40) == 0 ? awkward[random.nextInt(awkward.length)]
                            : (float) (random.nextGaussian() * 0.3);
                    b.putFloat(v);
                    expected.append(i == 0 ? "" : ",").append(Float.isNaN(v) ? "\"NaN\""
                            : Float.isInfinite(v) ? (v > 0 ? "\"Infinity\"" : "\"-Infinity\"") : Float.toString(v));
                }
                Buffer actual = Buffer.buffer();

                JsonTensorWriter.writeNumbers(actual, Tensor.of("t", DataType.FP32, new long[] {count}, b.flip()));

                assertEquals(expected.append(']').toString(), actual.toString(StandardCharsets.UTF_8),
                        "count " + count);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FP32", "INT8"})
    void writeNumbers_ofAnEmptyTensor_writesAnEmptyArray(DataType type) {
        Buffer out = Buffer.buffer();

        JsonTensorWriter.writeNumbers(out, Tensor.of("t", type, new long[] {0}, ByteBuffer.allocate(0)));

        assertEquals("[]", out.toString(StandardCharsets.UTF_8));
    }
}
