package dev.gantry.core.inference;

import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A named, typed, shaped tensor. Fixed-size types hold their elements as raw little-endian,
 * row-major bytes (the OIP binary layout; BOOL is one byte, 0 or 1); {@link DataType#BYTES} holds one
 * byte string per element.
 *
 * <p>Instances are immutable once built: {@link #data()} returns a read-only view.
 */
public final class Tensor {
    private final String name;
    private final DataType datatype;
    private final long[] shape;
    private final ByteBuffer data;
    private final List<byte[]> strings;

    private Tensor(String name, DataType datatype, long[] shape, ByteBuffer data, List<byte[]> strings) {
        this.name = Objects.requireNonNull(name, "name");
        this.datatype = Objects.requireNonNull(datatype, "datatype");
        this.shape = shape.clone();
        this.data = data;
        this.strings = strings;
    }

    /**
     * A fixed-size tensor over {@code data} (little-endian; its remaining bytes must equal element
     * count times element size).
     */
    public static Tensor of(String name, DataType datatype, long[] shape, ByteBuffer data) {
        if (!datatype.isFixedSize()) {
            throw new IllegalArgumentException("use ofStrings for " + datatype);
        }
        long expected = Math.multiplyExact(elementCount(shape), datatype.byteSize());
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' " + datatype + Shapes.describe(shape)
                    + " needs " + expected + " bytes, got " + data.remaining());
        }
        ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        return new Tensor(name, datatype, shape, view.order(ByteOrder.LITTLE_ENDIAN), null);
    }

    /** A BYTES tensor with one byte string per element. */
    public static Tensor ofStrings(String name, long[] shape, List<byte[]> elements) {
        if (elementCount(shape) != elements.size()) {
            throw new IllegalArgumentException("tensor '" + name + "' BYTES" + Shapes.describe(shape)
                    + " needs " + elementCount(shape) + " elements, got " + elements.size());
        }
        return new Tensor(name, DataType.BYTES, shape, null, List.copyOf(elements));
    }

    /** Product of the dimensions; throws ArithmeticException on overflow, IllegalArgumentException if negative. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d + " in " + Shapes.describe(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public String name() {
        return name;
    }

    public DataType datatype() {
        return datatype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** Read-only little-endian view of the raw bytes, positioned at 0; fixed-size types only. */
    public ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException("BYTES tensor '" + name + "' has no raw buffer");
        }
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements of a BYTES tensor. */
    public List<byte[]> strings() {
        if (strings == null) {
            throw new IllegalStateException(datatype + " tensor '" + name + "' has no string elements");
        }
        return strings;
    }

    /** Size of the payload in bytes (for BYTES: the sum of element lengths). */
    public long byteSize() {
        if (data != null) {
            return data.remaining();
        }
        long n = 0;
        for (byte[] s : strings) {
            n += s.length;
        }
        return n;
    }

    /** The same data under another name. */
    public Tensor withName(String newName) {
        return new Tensor(newName, datatype, shape, data, strings);
    }

    /** True when both tensors have the same type, shape and bit-identical contents (names ignored). */
    public boolean contentEquals(Tensor o) {
        if (datatype != o.datatype || !Arrays.equals(shape, o.shape)) {
            return false;
        }
        if (data != null) {
            return data().equals(o.data());
        }
        if (strings.size() != o.strings.size()) {
            return false;
        }
        for (int i = 0; i < strings.size(); i++) {
            if (!Arrays.equals(strings.get(i), o.strings.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return name + ":" + datatype + Shapes.describe(shape);
    }
}
