package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OipCodecLimitsTest {
    private static String fp32(String shape, String data) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":" + shape + ",\"data\":" + data + "}]}";
    }

    private static String message(OipCodec codec, String body) {
        return assertThrows(GantryException.class,
                () -> codec.decodeRequest(Buffer.buffer(body), OptionalLong.empty())).getMessage();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1000000000000]", "[16777217]", "[4096,4096,2]"})
    void shapeOverTheTensorLimit_isRefusedBeforeReadingData(String shape) {
        long before = usedHeap();

        String m = message(new OipCodec(CodecLimits.defaults()), fp32(shape, "[1]"));

        assertTrue(m.contains("the limit is 16777216 per tensor"), m);
        assertTrue(usedHeap() - before < 32 << 20, "refusal must not allocate the tensor");
    }

    @Test
    void shapeWithinLimitsButLargerThanTheBody_isRefusedWithoutAllocating() {
        String m = message(new OipCodec(CodecLimits.defaults()), fp32("[16000000]", "[1,2,3]"));

        assertTrue(m.contains("declares 16000000 elements, more than a"), m);
    }

    @Test
    void binaryShapeLargerThanItsBlob_isRefusedBeforeReading() {
        String header = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[10000000],"
                + "\"parameters\":{\"binary_data_size\":8}}]}";
        Buffer body = Buffer.buffer(header).appendBytes(new byte[8]);

        GantryException e = assertThrows(GantryException.class,
                () -> new OipCodec(CodecLimits.defaults()).decodeRequest(body, OptionalLong.of(header.length())));

        assertTrue(e.getMessage().contains("binary_data_size is 8 but FP64[10000000] needs exactly 80000000 bytes"));
    }

    @Test
    void perTensorLimit_isInclusive() {
        OipCodec codec = new OipCodec(new CodecLimits(4, 100, 64));

        assertEquals(4, codec.decodeRequest(Buffer.buffer(fp32("[4]", "[1,2,3,4]")), OptionalLong.empty())
                .request().inputs().getFirst().elementCount());
        assertTrue(message(codec, fp32("[5]", "[1,2,3,4,5]")).contains("has 5 elements; the limit is 4 per tensor"));
    }

    @Test
    void perRequestLimit_countsAllInputsTogether() {
        OipCodec codec = new OipCodec(new CodecLimits(4, 6, 64));
        String body = "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"INT8\",\"shape\":[4],\"data\":[1,2,3,4]},"
                + "{\"name\":\"b\",\"datatype\":\"INT8\",\"shape\":[3],\"data\":[1,2,3]}]}";

        assertTrue(message(codec, body).contains("request inputs have 7 elements in total (through input 'b'); "
                + "the limit is 6 per request"));
    }

    @Test
    void nestingDepth_isConfigurable() {
        OipCodec shallow = new OipCodec(new CodecLimits(100, 100, 5));
        String depth5 = fp32("[1,1]", "[[1]]");

        assertTrue(message(shallow, fp32("[1,1,1]", "[[[1]]]")).contains("nests deeper than 5 levels"));
        assertEquals(1, shallow.decodeRequest(Buffer.buffer(depth5), OptionalLong.empty()).request().inputs().size());
    }

    @Test
    void limitsOutOfRange_areRefusedWhenBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CodecLimits(0, 1, 64));

        assertEquals("maxElementsPerTensor must be positive, was 0", e.getMessage());
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
