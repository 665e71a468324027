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

    @Test
    void shapeWithAMillionDimensions_isRefusedWithAShortMessage() {
        String shape = "[" + "1,".repeat(999_999) + "1]";

        String m = message(new OipCodec(CodecLimits.defaults()), fp32(shape, "[1]"));

        assertEquals("input 'x' shape has more than 16 dimensions; the limit is 16", m);
    }

    @Test
    void shapeAtTheRankLimit_isAccepted() {
        String shape = "[" + "1,".repeat(15) + "1]";

        long[] decoded = new OipCodec(CodecLimits.defaults()).decodeRequest(Buffer.buffer(fp32(shape, "[1]")),
                OptionalLong.empty()).request().inputs().getFirst().shape();

        assertEquals(16, decoded.length);
    }

    @Test
    void messagesAboutALongShape_printAtMostEightDimensions() {
        String shape = "[" + "2,".repeat(15) + "2]";

        String m = message(new OipCodec(CodecLimits.defaults()), fp32(shape, "[1]"));

        assertTrue(m.contains("shape [2, 2, 2, 2, 2, 2, 2, 2, ... (16 dims)]"), m);
    }

    @Test
    void declaredShapeWithOneValue_allocatesForTheValuesThatArrived_notForTheShape() {
        // FP64[16777216] would be 128 MiB; the body is padded just enough to pass the "can the body hold that
        // many values" check, so only the tensor buffer's sizing decides what is allocated.
        String head = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[16777216],\"data\":[1.0]}]}";
        Buffer body = Buffer.buffer(head + " ".repeat(33_554_432 - head.length() + 16));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

        OipCodec codec = new OipCodec(CodecLimits.defaults());
        long before = threads.getCurrentThreadAllocatedBytes();

        String m = assertThrows(GantryException.class,
                () -> codec.decodeRequest(body, OptionalLong.empty())).getMessage();
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertTrue(m.contains("data has 1 elements but shape [16777216] needs 16777216"), m);
        // The codec copies the body once (32 MiB); the 128 MiB tensor buffer must not be among the allocations.
        assertTrue(allocated < 48L << 20, "allocated " + (allocated >> 20) + " MiB");
    }

    @Test
    void timeoutAboveTheCap_isRefusedNamingTheCap() {
        OipCodec codec = new OipCodec(CodecLimits.defaults().withMaxTimeout(java.time.Duration.ofSeconds(600)));

        String m = message(codec, timed(3_600_000_000L));

        assertEquals("parameter 'timeout' is 3600000000 us; this server allows at most 600000000 us"
                + " (--max-request-timeout-ms 600000)", m);
    }

    @Test
    void timeoutAtTheCap_isAccepted() {
        OipCodec codec = new OipCodec(CodecLimits.defaults().withMaxTimeout(java.time.Duration.ofSeconds(600)));

        assertEquals(java.util.Optional.of(600_000_000L), codec.decodeRequest(Buffer.buffer(timed(600_000_000L)),
                OptionalLong.empty()).request().timeoutMicros());
    }

    private static String timed(long micros) {
        return "{\"parameters\":{\"timeout\":" + micros + "},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                + "\"shape\":[1],\"data\":[1]}]}";
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
