package dev.gantry.core.scheduling;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.testing.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchesTest {
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FP32", "INT64", "BOOL", "BYTES"})
    void concat_stacksPartsAlongTheFirstDimension(DataType type) {
        Tensor a = tensor(type, 1, 3, 0);
        Tensor b = tensor(type, 2, 3, 3);

        Tensor stacked = Batches.concat("x", List.of(a, b));

        assertTrue(tensor(type, 3, 3, 0).contentEquals(stacked), stacked.toString());
        assertEquals("x", stacked.name());
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FP32", "INT64", "BOOL", "BYTES"})
    void split_ofConcat_givesBackEachPart(DataType type) {
        List<Tensor> parts = List.of(tensor(type, 2, 3, 0), tensor(type, 1, 3, 6), tensor(type, 3, 3, 9));

        List<Tensor> back = Batches.split(Batches.concat("x", parts), new int[] {2, 1, 3});

        assertEquals(3, back.size());
        for (int i = 0; i < parts.size(); i++) {
            assertTrue(parts.get(i).contentEquals(back.get(i)), "part " + i + ": " + back.get(i));
        }
    }

    @Test
    void split_ofAHigherRankTensor_keepsTheInnerDimensions() {
        Tensor t = Tensors.fp32Rows("y", 3, 4, 0);
        Tensor cube = Tensor.of("y", DataType.FP32, new long[] {3, 2, 2}, t.data());

        List<Tensor> back = Batches.split(cube, new int[] {1, 2});

        assertArrayEquals(new long[] {1, 2, 2}, back.get(0).shape());
        assertArrayEquals(new long[] {2, 2, 2}, back.get(1).shape());
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, Tensors.floats(back.get(1)));
    }

    @Test
    void split_whenFirstDimensionIsNotTheBatchRows_failsWithInternalNamingTheOutput() {
        Tensor pooled = Tensors.fp32Rows("pooled", 1, 4, 0);

        GantryException e = assertThrows(GantryException.class, () -> Batches.split(pooled, new int[] {1, 2}));

        assertEquals(ErrorCode.INTERNAL, e.code());
        assertTrue(e.getMessage().contains("'pooled'"), e.getMessage());
    }

    @Test
    void split_ofAScalar_failsWithInternalNamingTheOutput() {
        Tensor scalar = Tensors.fp32("loss", new long[] {}, 1f);

        GantryException e = assertThrows(GantryException.class, () -> Batches.split(scalar, new int[] {1}));

        assertEquals(ErrorCode.INTERNAL, e.code());
        assertTrue(e.getMessage().contains("'loss'"), e.getMessage());
    }

    /** A {@code rows} x {@code cols} tensor whose elements are derived from {@code from}, {@code from + 1}, ... */
    private static Tensor tensor(DataType type, int rows, int cols, int from) {
        long[] shape = {rows, cols};
        int n = rows * cols;
        if (type == DataType.BYTES) {
            List<byte[]> s = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                s.add(("w" + (from + i)).repeat(1 + (from + i) % 3).getBytes(StandardCharsets.UTF_8));
            }
            return Tensor.ofStrings("x", shape, s);
        }
        ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < from + n; i++) {
            switch (type) {
                case FP32 -> b.putFloat(i + 0.5f);
                case INT64 -> b.putLong(1L << 40 | i);
                case BOOL -> b.put((byte) (i % 2));
                default -> throw new IllegalArgumentException(type.name());
            }
        }
        return Tensor.of("x", type, shape, b.flip());
    }
}
