package dev.gantry.core.testing;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds and reads small tensors in tests. */
public final class Tensors {
    private Tensors() {
    }

    public static Tensor fp32(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.of(name, DataType.FP32, shape, b.flip());
    }

    public static Tensor int64(String name, long[] shape, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return Tensor.of(name, DataType.INT64, shape, b.flip());
    }

    /** An FP32 tensor of {@code rows} x {@code cols} whose element (r, c) is {@code base + r * cols + c}. */
    public static Tensor fp32Rows(String name, int rows, int cols, float base) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = base + i;
        }
        return fp32(name, new long[] {rows, cols}, v);
    }

    public static float[] floats(Tensor t) {
        ByteBuffer b = t.data();
        float[] out = new float[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat(i * 4);
        }
        return out;
    }
}
