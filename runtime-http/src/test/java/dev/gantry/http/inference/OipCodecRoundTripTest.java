package dev.gantry.http.inference;

import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelId;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OipCodecRoundTripTest {
    private final OipCodec codec = new OipCodec(CodecLimits.defaults());

    static Stream<Arguments> everyTypeInBothEncodings() {
        return Arrays.stream(DataType.values())
                .flatMap(t -> Stream.of(Arguments.of(t, false), Arguments.of(t, true)));
    }

    @ParameterizedTest(name = "{0} binary={1}")
    @MethodSource("everyTypeInBothEncodings")
    void encodedOutput_decodesAsInput_withIdenticalContents(DataType type, boolean binary) {
        Tensor original = sample(type);

        Tensor decoded = roundTrip(original, binary);

        assertTrue(original.contentEquals(decoded), () -> original + " came back as " + decoded);
    }

    @Test
    void randomFp32Bits_surviveJsonExactly() {
        SplittableRandom random = new SplittableRandom(42);
        ByteBuffer data = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        while (data.hasRemaining()) {
            float f = Float.intBitsToFloat(random.nextInt());
            data.putFloat(Float.isNaN(f) ? Float.NaN : f);
        }
        Tensor original = Tensor.of("x", DataType.FP32, new long[] {4096}, data.flip());

        assertTrue(original.contentEquals(roundTrip(original, false)));
    }

    @Test
    void randomFp64Bits_surviveJsonExactly() {
        SplittableRandom random = new SplittableRandom(7);
        ByteBuffer data = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        while (data.hasRemaining()) {
            double d = Double.longBitsToDouble(random.nextLong());
            data.putDouble(Double.isNaN(d) ? Double.NaN : d);
        }
        Tensor original = Tensor.of("x", DataType.FP64, new long[] {64, 64}, data.flip());

        assertTrue(original.contentEquals(roundTrip(original, false)));
    }

    @Test
    void bytesOutputWithInvalidUtf8_isSentAsBinaryAndSurvives() {
        Tensor original = Tensor.ofStrings("s", new long[] {2},
                List.of("ok".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, 0x28}));

        EncodedResponse encoded = encode(original, OutputEncoding.json());

        assertTrue(encoded.headerLength().isPresent());
        assertTrue(original.contentEquals(decodeAsRequest(encoded)));
    }

    @Test
    void multipleOutputs_mixingJsonAndBinary_decodeInOrder() {
        Tensor a = sample(DataType.FP32).withName("a");
        Tensor b = sample(DataType.BYTES).withName("b");
        Tensor c = sample(DataType.INT64).withName("c");
        InferenceResponse response = new InferenceResponse(new ModelId("m", 1), "", List.of(a, b, c));

        EncodedResponse encoded = codec.encodeResponse(response, new OutputEncoding(false, Map.of("b", true, "c", true)));
        List<Tensor> decoded = codec.decodeRequest(asRequest(encoded), encoded.headerLength()).request().inputs();

        assertEquals(List.of("a", "b", "c"), decoded.stream().map(Tensor::name).toList());
        assertTrue(a.contentEquals(decoded.get(0)) && b.contentEquals(decoded.get(1)) && c.contentEquals(decoded.get(2)));
    }

    private Tensor roundTrip(Tensor original, boolean binary) {
        EncodedResponse encoded = encode(original, new OutputEncoding(binary, Map.of()));
        assertEquals(binary, encoded.headerLength().isPresent());
        return decodeAsRequest(encoded);
    }

    private EncodedResponse encode(Tensor t, OutputEncoding encoding) {
        return codec.encodeResponse(new InferenceResponse(new ModelId("m", 3), "r1", List.of(t)), encoding);
    }

    private Tensor decodeAsRequest(EncodedResponse encoded) {
        return codec.decodeRequest(asRequest(encoded), encoded.headerLength()).request().inputs().getFirst();
    }

    /** A response body re-addressed as a request: its outputs array has exactly the shape of an inputs array. */
    static Buffer asRequest(EncodedResponse encoded) {
        byte[] body = encoded.body().getBytes();
        int headerLength = (int) encoded.headerLength().orElse(body.length);
        String header = new String(body, 0, headerLength, StandardCharsets.UTF_8);
        assertEquals(headerLength, header.getBytes(StandardCharsets.UTF_8).length);
        byte[] renamed = header.replace("\"outputs\":", "\"inputs\": ").getBytes(StandardCharsets.UTF_8);
        return Buffer.buffer(renamed).appendBytes(Arrays.copyOfRange(body, headerLength, body.length));
    }

    /** Two rows of edge values for each type, including extremes, zeros, NaN, infinities and -0.0. */
    static Tensor sample(DataType type) {
        long[] shape = {2, 3};
        ByteBuffer b = type.isFixedSize()
                ? ByteBuffer.allocate(6 * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN) : null;
        switch (type) {
            case BOOL -> b.put(new byte[] {1, 0, 1, 1, 0, 0});
            case UINT8 -> b.put(new byte[] {0, 1, 127, (byte) 128, (byte) 254, (byte) 255});
            case INT8 -> b.put(new byte[] {0, 1, -1, 127, -128, 42});
            case UINT16 -> {
                for (int v : new int[] {0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF}) {
                    b.putShort((short) v);
                }
            }
            case INT16 -> {
                for (int v : new int[] {0, 1, -1, Short.MAX_VALUE, Short.MIN_VALUE, 1234}) {
                    b.putShort((short) v);
                }
            }
            case UINT32 -> {
                for (long v : new long[] {0, 1, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFEL, 0xFFFF_FFFFL}) {
                    b.putInt((int) v);
                }
            }
            case INT32 -> {
                for (int v : new int[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 99}) {
                    b.putInt(v);
                }
            }
            case UINT64 -> {
                for (long v : new long[] {0, 1, Long.MAX_VALUE, Long.MIN_VALUE, -2, -1}) {
                    b.putLong(v);
                }
            }
            case INT64 -> {
                for (long v : new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 53}) {
                    b.putLong(v);
                }
            }
            case FP16 -> {
                for (float v : new float[] {0f, -0f, 65504f, Float.NaN, Float.NEGATIVE_INFINITY, 5.9604645e-8f}) {
                    b.putShort(Float.floatToFloat16(v));
                }
            }
            case FP32 -> {
                for (float v : new float[] {-0f, 0.1f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NaN,
                        Float.POSITIVE_INFINITY}) {
                    b.putFloat(v);
                }
            }
            case FP64 -> {
                for (double v : new double[] {-0d, 0.1, Double.MAX_VALUE, Double.MIN_VALUE, Double.NaN,
                        Double.NEGATIVE_INFINITY}) {
                    b.putDouble(v);
                }
            }
            case BYTES -> {
                return Tensor.ofStrings("t", shape, Stream.of("", "a", "héllo", "日本", "\"quoted\"\n", "\u0000")
                        .map(s -> s.getBytes(StandardCharsets.UTF_8)).toList());
            }
        }
        return Tensor.of("t", type, shape, b.flip());
    }
}
