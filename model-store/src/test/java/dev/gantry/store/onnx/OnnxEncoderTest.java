package dev.gantry.store.onnx;

import static dev.gantry.store.onnx.ProtoWriterTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxEncoderTest {

    @Test
    void tensor_encodesPackedDimsDataTypeNameAndLittleEndianRawData() {
        Initializer tensor = Initializer.floats("w", new float[] {1.0f, -2.0f}, 1, 2);

        byte[] encoded = OnnxEncoder.tensor(tensor).toBytes();

        assertArrayEquals(bytes(
                0x0A, 0x02, 0x01, 0x02,                    // dims = 1: packed [1, 2]
                0x10, 0x01,                                // data_type = 2: FLOAT
                0x42, 0x01, 'w',                           // name = 8
                0x4A, 0x08,                                // raw_data = 9, 8 bytes
                0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0), encoded);
    }

    @Test
    void tensor_ofScalar_hasNoDims() {
        byte[] encoded = OnnxEncoder.tensor(Initializer.scalar("s", 2.0f)).toBytes();

        assertArrayEquals(bytes(0x10, 0x01, 0x42, 0x01, 's', 0x4A, 0x04, 0x00, 0x00, 0x00, 0x40), encoded);
    }

    @Test
    void valueInfo_encodesFixedDimsAsValueAndSymbolicDimsAsParam() {
        ValueInfo value = new ValueInfo("x", ElemType.INT64, List.of(Dim.param("n"), Dim.of(4)));

        byte[] encoded = OnnxEncoder.valueInfo(value).toBytes();

        assertArrayEquals(bytes(
                0x0A, 0x01, 'x',                           // name = 1
                0x12, 0x0F,                                // type = 2
                0x0A, 0x0D,                                // tensor_type = 1
                0x08, 0x07,                                // elem_type = 1: INT64
                0x12, 0x09,                                // shape = 2
                0x0A, 0x03, 0x12, 0x01, 'n',               // dim { dim_param = 2 }
                0x0A, 0x02, 0x08, 0x04), encoded);         // dim { dim_value = 1 }
    }

    @Test
    void attribute_ofInt_writesValueThenType() {
        byte[] encoded = OnnxEncoder.attribute(Attribute.ofInt("k", 1)).toBytes();

        assertArrayEquals(bytes(0x0A, 0x01, 'k', 0x18, 0x01, 0xA0, 0x01, 0x02), encoded);
    }

    @Test
    void attribute_ofFloat_writesFixed32() {
        byte[] encoded = OnnxEncoder.attribute(Attribute.ofFloat("alpha", 1.0f)).toBytes();

        byte[] expected = concat("alpha", bytes(0x15, 0x00, 0x00, 0x80, 0x3F, 0xA0, 0x01, 0x01));
        assertArrayEquals(expected, encoded);
    }

    @Test
    void attribute_ofInts_writesPackedInts() {
        byte[] encoded = OnnxEncoder.attribute(Attribute.ofInts("perm", 1, 0)).toBytes();

        assertArrayEquals(concat("perm", bytes(0x42, 0x02, 0x01, 0x00, 0xA0, 0x01, 0x07)), encoded);
    }

    @Test
    void attribute_ofString_writesBytes() {
        byte[] encoded = OnnxEncoder.attribute(Attribute.ofString("mode", "a")).toBytes();

        assertArrayEquals(concat("mode", bytes(0x22, 0x01, 'a', 0xA0, 0x01, 0x03)), encoded);
    }

    @Test
    void node_encodesInputsOutputsNameOpTypeInFieldOrder() {
        Node node = new Node("n", "Relu", List.of("x"), List.of("y"), List.of());

        byte[] encoded = OnnxEncoder.node(node).toBytes();

        assertArrayEquals(bytes(0x0A, 0x01, 'x', 0x12, 0x01, 'y', 0x1A, 0x01, 'n',
                0x22, 0x04, 'R', 'e', 'l', 'u'), encoded);
    }

    @Test
    void model_startsWithIrVersionAndEndsWithDefaultDomainOpset() {
        OnnxGraph graph = OnnxGraph.builder("g")
                .input("x", ElemType.FLOAT, 1)
                .node("Relu", List.of("x"), "y")
                .output("y", ElemType.FLOAT, 1)
                .build();

        byte[] encoded = OnnxModel.of(graph).toBytes();

        assertArrayEquals(bytes(0x08, 0x08), java.util.Arrays.copyOfRange(encoded, 0, 2));
        byte[] opset = bytes(0x42, 0x04, 0x0A, 0x00, 0x10, 0x11);
        assertArrayEquals(opset, java.util.Arrays.copyOfRange(encoded, encoded.length - opset.length, encoded.length));
    }

    private static byte[] concat(String name, byte[] rest) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] result = new byte[2 + nameBytes.length + rest.length];
        result[0] = 0x0A;
        result[1] = (byte) nameBytes.length;
        System.arraycopy(nameBytes, 0, result, 2, nameBytes.length);
        System.arraycopy(rest, 0, result, 2 + nameBytes.length, rest.length);
        return result;
    }
}
