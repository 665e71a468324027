package dev.gantry.core.inference;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The classification extension: an output replaced by its top-k classes, as Triton returns them. */
public final class Classification {
    /*
     * Each element of the result is the BYTES string "value:index" or, when the output has labels and one exists
     * for that index, "value:index:label". Floating-point values print with six decimals (C++ std::to_string,
     * as Triton prints them), integers as integers. With a batch dimension (max_batch_size > 0) each row of
     * dimension 0 is classified on its own and the result has shape [rows, k]; without one the whole tensor is
     * one row and the result has shape [k]. k is capped at the number of classes per row. The highest value
     * comes first; equal values keep index order.
     */
    private Classification() {
    }

    /**
     * Replaces the outputs named in {@code classCounts} by their top-k classes.
     *
     * @param classCounts output name to k (positive)
     * @param batched whether dimension 0 of the outputs is the batch dimension
     * @param labels per output name, its labels (index i labels class i)
     * @throws GantryException INVALID_ARG when a classified output is BYTES or BOOL
     */
    public static InferenceResponse apply(InferenceResponse response, Map<String, Integer> classCounts,
                                          boolean batched, Map<String, List<String>> labels) {
        if (classCounts.isEmpty()) {
            return response;
        }
        List<Tensor> outputs = new ArrayList<>(response.outputs().size());
        for (Tensor t : response.outputs()) {
            Integer k = classCounts.get(t.name());
            outputs.add(k == null ? t : topK(t, k, batched, labels.getOrDefault(t.name(), List.of())));
        }
        return new InferenceResponse(response.model(), response.id(), outputs);
    }

    /** The top {@code k} classes of {@code scores}, per row when {@code batched}. */
    public static Tensor topK(Tensor scores, int k, boolean batched, List<String> labels) {
        if (k < 1) {
            throw GantryException.invalid("output '" + scores.name() + "' classification must be a positive integer, "
                    + "was " + k);
        }
        DataType type = scores.datatype();
        if (!type.isFixedSize() || type == DataType.BOOL) {
            throw GantryException.invalid("output '" + scores.name() + "' is " + type
                    + " and cannot be classified; classification needs a numeric output");
        }
        long total = scores.elementCount();
        long rows = batched && scores.rank() > 0 ? scores.dim(0) : 1;
        int perRow = rows == 0 ? 0 : Math.toIntExact(total / rows);
        int kept = Math.min(k, perRow);
        ByteBuffer data = scores.data();
        List<byte[]> elements = new ArrayList<>(Math.toIntExact(rows * kept));
        Integer[] order = new Integer[perRow];
        double[] values = new double[perRow];
        for (long r = 0; r < rows; r++) {
            int base = Math.toIntExact(r * perRow);
            for (int i = 0; i < perRow; i++) {
                values[i] = value(data, type, base + i);
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
            for (int j = 0; j < kept; j++) {
                int index = order[j];
                StringBuilder s = new StringBuilder(format(type, values[index])).append(':').append(index);
                if (index < labels.size()) {
                    s.append(':').append(labels.get(index));
                }
                elements.add(s.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        long[] shape = batched && scores.rank() > 0 ? new long[] {rows, kept} : new long[] {kept};
        return Tensor.ofStrings(scores.name(), shape, elements);
    }

    private static String format(DataType type, double v) {
        return type.isFloatingPoint() ? String.format(Locale.ROOT, "%f", v) : Long.toString((long) v);
    }

    private static double value(ByteBuffer b, DataType t, int i) {
        return switch (t) {
            case FP32 -> b.getFloat(i * 4);
            case FP64 -> b.getDouble(i * 8);
            case FP16 -> Float.float16ToFloat(b.getShort(i * 2));
            case INT64 -> b.getLong(i * 8);
            case UINT64 -> unsigned64(b.getLong(i * 8));
            case INT32 -> b.getInt(i * 4);
            case UINT32 -> Integer.toUnsignedLong(b.getInt(i * 4));
            case INT16 -> b.getShort(i * 2);
            case UINT16 -> Short.toUnsignedInt(b.getShort(i * 2));
            case INT8 -> b.get(i);
            case UINT8 -> Byte.toUnsignedInt(b.get(i));
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    private static double unsigned64(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2 + (v & 1);
    }
}
