package dev.gantry.core.lifecycle;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.Batches;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Checks whether a model computes each row of a batch as it would compute that row alone. */
final class BatchInvariance {
    /*
     * Dynamic batching is only safe when a row's result does not depend on the other rows of its batch. Most
     * float models are, bit for bit, on ORT's CPU kernels. Dynamically quantized models are not: they derive
     * the activation scale from the whole input tensor, so a row's result changes with its neighbours. We run
     * `rows` synthetic rows once as a batch and once one by one and require every output to be bit-identical.
     * Integer inputs are drawn from {1, 2} first, then from {0, 1}. Zero first would be a zero divisor for any
     * model with an integer Div or Mod, and ONNX Runtime does not check for one: the kernel traps with SIGFPE
     * and takes the process with it. Integer inputs are also often indices (token ids, token types into a
     * two-row table): 2 may be past the end of a table, which ONNX Runtime reports as an error, and then
     * {0, 1}, valid indices for any table of two rows, are tried. Both sets give rows that differ from each
     * other, which the invariance check needs (identical rows would hide a batch-dependent scale).
     */
    private static final long[][] INT_RANGES = {{1, 3}, {0, 2}};
    private static final long INNER_DYNAMIC_DIM = 8;

    private BatchInvariance() {
    }

    /** Empty if invariant; otherwise what differed. Runtime failures of the model propagate. */
    static Optional<String> check(ModelExecutor executor, ModelSignature signature, int rows, long seed) {
        RuntimeException last = null;
        for (long[] range : INT_RANGES) {
            try {
                return compare(executor, SyntheticInputs.generate(signature, rows, INNER_DYNAMIC_DIM, range[0],
                        range[1], seed), rows);
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    /** Runs one warm-up execution of one row; returns the inputs that the model accepted. */
    static List<Tensor> warmUp(ModelExecutor executor, ModelSignature signature, long rowsIfDynamic) {
        RuntimeException last = null;
        for (long[] range : INT_RANGES) {
            try {
                List<Tensor> inputs = SyntheticInputs.generate(signature, rowsIfDynamic, INNER_DYNAMIC_DIM, range[0],
                        range[1], 1);
                executor.run(inputs, Set.of());
                return inputs;
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    /** Empty if invariant on {@code batch}, inputs of {@code rows} rows; otherwise what differed. */
    static Optional<String> compare(ModelExecutor executor, List<Tensor> batch, int rows) {
        List<Tensor> batched = executor.run(batch, Set.of());
        int[] ones = new int[rows];
        java.util.Arrays.fill(ones, 1);
        List<List<Tensor>> inputRows = new ArrayList<>();
        for (Tensor t : batch) {
            inputRows.add(Batches.split(t, ones));
        }
        List<List<Tensor>> batchedRows = new ArrayList<>();
        for (Tensor t : batched) {
            batchedRows.add(Batches.split(t, ones));
        }
        double worst = 0;
        String worstOutput = null;
        for (int r = 0; r < rows; r++) {
            List<Tensor> single = new ArrayList<>();
            for (List<Tensor> in : inputRows) {
                single.add(in.get(r));
            }
            List<Tensor> alone = executor.run(single, Set.of());
            for (int o = 0; o < batched.size(); o++) {
                Tensor b = batchedRows.get(o).get(r);
                Tensor a = alone.stream().filter(t -> t.name().equals(b.name())).findFirst().orElseThrow();
                if (!a.contentEquals(b)) {
                    double d = maxAbsDiff(a, b);
                    if (worstOutput == null || d > worst) {
                        worst = d;
                        worstOutput = b.name();
                    }
                }
            }
        }
        if (worstOutput == null) {
            return Optional.empty();
        }
        return Optional.of(String.format(java.util.Locale.ROOT,
                "output '%s' differs by up to %.4g between a row computed alone and the same row in a batch of %d",
                worstOutput, worst, rows));
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        if (!a.datatype().isFixedSize() || a.elementCount() != b.elementCount()) {
            return Double.POSITIVE_INFINITY;
        }
        ByteBuffer x = a.data();
        ByteBuffer y = b.data();
        double worst = 0;
        long n = a.elementCount();
        for (int i = 0; i < n; i++) {
            worst = Math.max(worst, Math.abs(value(x, a.datatype(), i) - value(y, a.datatype(), i)));
        }
        return worst;
    }

    private static double value(ByteBuffer b, DataType t, int i) {
        return switch (t) {
            case FP32 -> b.getFloat(i * 4);
            case FP64 -> b.getDouble(i * 8);
            case FP16 -> Float.float16ToFloat(b.getShort(i * 2));
            case INT64, UINT64 -> b.getLong(i * 8);
            case INT32, UINT32 -> b.getInt(i * 4);
            case INT16, UINT16 -> b.getShort(i * 2);
            default -> b.get(i);
        };
    }
}
