package dev.gantry.core.scheduling;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Stacks tensors along dimension 0 and splits them back. */
public final class Batches {
    private Batches() {
    }

    /** Concatenates tensors of one input along dimension 0; their other dimensions must be equal. */
    public static Tensor concat(String name, List<Tensor> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        Tensor first = parts.get(0);
        long[] shape = first.shape();
        long rows = 0;
        for (Tensor t : parts) {
            rows += t.dim(0);
        }
        shape[0] = rows;
        if (first.datatype() == DataType.BYTES) {
            List<byte[]> all = new ArrayList<>();
            for (Tensor t : parts) {
                all.addAll(t.strings());
            }
            return Tensor.ofStrings(name, shape, all);
        }
        long bytes = 0;
        for (Tensor t : parts) {
            bytes += t.byteSize();
        }
        ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : parts) {
            out.put(t.data());
        }
        return Tensor.of(name, first.datatype(), shape, out.flip());
    }

    /**
     * Splits {@code t} along dimension 0 into parts of the given row counts.
     *
     * @throws GantryException INTERNAL when the tensor's first dimension is not the sum of the rows
     */
    public static List<Tensor> split(Tensor t, int[] rows) {
        long total = Arrays.stream(rows).asLongStream().sum();
        if (t.rank() == 0 || t.dim(0) != total) {
            throw new GantryException(ErrorCode.INTERNAL, "output '" + t.name() + "' has shape "
                    + dev.gantry.core.inference.Shapes.describe(t.shape()) + " but the batch had " + total
                    + " rows: this model's outputs are not batched along dimension 0, so it cannot be batched");
        }
        if (rows.length == 1) {
            return List.of(t);
        }
        List<Tensor> parts = new ArrayList<>(rows.length);
        long[] shape = t.shape();
        long rowElements = total == 0 ? 0 : t.elementCount() / total;
        if (t.datatype() == DataType.BYTES) {
            int from = 0;
            for (int r : rows) {
                shape[0] = r;
                int n = Math.toIntExact(r * rowElements);
                parts.add(Tensor.ofStrings(t.name(), shape, t.strings().subList(from, from + n)));
                from += n;
            }
            return parts;
        }
        ByteBuffer data = t.data();
        int rowBytes = Math.toIntExact(rowElements * t.datatype().byteSize());
        int offset = 0;
        for (int r : rows) {
            shape[0] = r;
            int len = r * rowBytes;
            parts.add(Tensor.of(t.name(), t.datatype(), shape, data.slice(offset, len)));
            offset += len;
        }
        return parts;
    }
}
