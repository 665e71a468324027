package dev.gantry.store.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/** A constant tensor stored in the graph ({@code TensorProto}) as little-endian {@code raw_data}. */
public final class Initializer {

    private final String name;
    private final ElemType type;
    private final long[] dims;
    private final byte[] rawData;

    private Initializer(String name, ElemType type, long[] dims, byte[] rawData) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.dims = dims.clone();
        this.rawData = rawData;
        if (type == ElemType.STRING) {
            throw new IllegalArgumentException("initializer '" + name + "': STRING tensors have no raw_data");
        }
        long elements = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        if (elements * type.byteSize() != rawData.length) {
            throw new IllegalArgumentException("initializer '" + name + "': shape " + Arrays.toString(dims)
                    + " of " + type + " needs " + elements * type.byteSize() + " bytes, got " + rawData.length);
        }
    }

    /** A tensor of any fixed-size type from its little-endian bytes. */
    public static Initializer raw(String name, ElemType type, byte[] littleEndian, long... dims) {
        return new Initializer(name, type, dims, littleEndian.clone());
    }

    public static Initializer floats(String name, float[] values, long... dims) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return new Initializer(name, ElemType.FLOAT, dims, buffer.array());
    }

    /** A rank-0 FP32 tensor. */
    public static Initializer scalar(String name, float value) {
        return floats(name, new float[] {value});
    }

    public String name() {
        return name;
    }

    public ElemType type() {
        return type;
    }

    public long[] dims() {
        return dims.clone();
    }

    byte[] rawData() {
        return rawData;
    }
}
