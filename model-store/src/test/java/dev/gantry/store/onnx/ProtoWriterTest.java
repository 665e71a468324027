package dev.gantry.store.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

class ProtoWriterTest {

    static Stream<Arguments> varints() {
        return Stream.of(
                Arguments.of(0L, bytes(0x00)),
                Arguments.of(1L, bytes(0x01)),
                Arguments.of(127L, bytes(0x7F)),
                Arguments.of(128L, bytes(0x80, 0x01)),
                Arguments.of(300L, bytes(0xAC, 0x02)),
                Arguments.of(-1L, bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01)),
                Arguments.of(Long.MIN_VALUE, bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)));
    }

    @ParameterizedTest
    @MethodSource("varints")
    void varint_encodesSevenBitsPerByteLeastSignificantFirst(long value, byte[] expected) {
        assertArrayEquals(expected, new ProtoWriter().varint(value).toBytes());
    }

    @Test
    void int64_withNegativeValue_takesTenBytesAfterTheTag() {
        byte[] encoded = new ProtoWriter().int64(1, -2).toBytes();

        assertArrayEquals(bytes(0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), encoded);
    }

    @Test
    void tag_withFieldTwenty_needsTwoBytes() {
        assertArrayEquals(bytes(0xA0, 0x01), new ProtoWriter().tag(20, ProtoWriter.VARINT).toBytes());
    }

    @Test
    void packedInt64_writesOneLengthDelimitedFieldOfVarints() {
        byte[] encoded = new ProtoWriter().packedInt64(1, new long[] {3, 300, 0}).toBytes();

        assertArrayEquals(bytes(0x0A, 0x04, 0x03, 0xAC, 0x02, 0x00), encoded);
    }

    @Test
    void packedInt64_withNoValues_writesNothing() {
        assertArrayEquals(new byte[0], new ProtoWriter().packedInt64(1, new long[0]).toBytes());
    }

    @Test
    void string_writesUtf8BytesWithTheirLength() {
        assertArrayEquals(bytes(0x12, 0x02, 0xC3, 0xA9), new ProtoWriter().string(2, "é").toBytes());
    }

    @Test
    void fixed32_isLittleEndian() {
        byte[] encoded = new ProtoWriter().fixed32(2, Float.floatToRawIntBits(1.0f)).toBytes();

        assertArrayEquals(bytes(0x15, 0x00, 0x00, 0x80, 0x3F), encoded);
    }

    @Test
    void message_writesTheNestedBytesWithTheirLength() {
        ProtoWriter inner = new ProtoWriter().int64(1, 150);

        assertArrayEquals(bytes(0x1A, 0x03, 0x08, 0x96, 0x01), new ProtoWriter().message(3, inner).toBytes());
    }

    static byte[] bytes(int... values) {
        byte[] result = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (byte) values[i];
        }
        return result;
    }
}
