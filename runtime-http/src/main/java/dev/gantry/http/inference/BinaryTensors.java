package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Shapes;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The OIP binary tensor data layout: fixed-size elements as raw little-endian bytes; BYTES elements each as a
 * 4-byte little-endian unsigned length followed by that many bytes.
 */
public final class BinaryTensors {
    private BinaryTensors() {
    }

    /** Reads the blob {@code body[offset, offset + size)} as a tensor whose declared size was already checked. */
    public static Tensor read(String name, DataType type, long[] shape, int count, byte[] body, int offset, int size) {
        if (type.isFixedSize()) {
            return Tensor.of(name, type, shape, ByteBuffer.wrap(body, offset, size));
        }
        ByteBuffer blob = ByteBuffer.wrap(body, offset, size).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> elements = new ArrayList<>(count);
        while (blob.hasRemaining()) {
            int index = elements.size();
            if (index == count) {
                throw GantryException.invalid("input '" + name + "' binary data holds more than the " + count
                        + " BYTES elements shape " + Shapes.describe(shape) + " declares");
            }
            if (blob.remaining() < Integer.BYTES) {
                throw GantryException.invalid("input '" + name + "' BYTES element " + index + " has a truncated "
                        + "length prefix: " + blob.remaining() + " of 4 bytes left in its binary data");
            }
            long length = Integer.toUnsignedLong(blob.getInt());
            if (length > blob.remaining()) {
                throw GantryException.invalid("input '" + name + "' BYTES element " + index + " declares "
                        + length + " bytes but only " + blob.remaining() + " remain in its binary data");
            }
            byte[] element = new byte[(int) length];
            blob.get(element);
            elements.add(element);
        }
        if (elements.size() != count) {
            throw GantryException.invalid("input '" + name + "' binary data holds " + elements.size()
                    + " BYTES elements but shape " + Shapes.describe(shape) + " needs " + count);
        }
        return Tensor.ofStrings(name, shape, elements);
    }

    /** Bytes {@link #write} produces for {@code tensor}. */
    public static long encodedSize(Tensor tensor) {
        if (tensor.datatype().isFixedSize()) {
            return tensor.byteSize();
        }
        return Integer.BYTES * (long) tensor.strings().size() + tensor.byteSize();
    }

    /** As {@link #write(Tensor, ByteBuffer)}, appending to a body buffer (heap or direct). */
    static void append(Tensor tensor, io.vertx.core.buffer.Buffer out) {
        if (tensor.datatype().isFixedSize()) {
            out.appendBuffer(io.vertx.core.internal.buffer.BufferInternal.buffer(
                    io.netty.buffer.Unpooled.wrappedBuffer(tensor.data())));
            return;
        }
        for (byte[] element : tensor.strings()) {
            out.appendIntLE(element.length).appendBytes(element);
        }
    }

    public static void write(Tensor tensor, ByteBuffer out) {
        if (tensor.datatype().isFixedSize()) {
            out.put(tensor.data());
            return;
        }
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] element : tensor.strings()) {
            out.putInt(element.length).put(element);
        }
        out.order(order);
    }
}
