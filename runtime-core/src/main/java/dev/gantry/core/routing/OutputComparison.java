package dev.gantry.core.routing;

import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * How far a shadow's outputs are from the primary's.
 *
 * @param maxAbsDiff the largest absolute difference over all FP32/FP64 output elements (0 when there are none)
 * @param agree true when every output has the same type and shape, every 2-D float output [n, classes] has the
 *     same argmax in every row, other float outputs differ by at most the tolerance, and non-float outputs are
 *     identical
 */
record OutputComparison(double maxAbsDiff, boolean agree) {

    static OutputComparison compare(InferenceResponse primary, InferenceResponse shadow, double tolerance) {
        double max = 0;
        boolean agree = true;
        for (Tensor p : primary.outputs()) {
            Optional<Tensor> found = shadow.outputs().stream().filter(t -> t.name().equals(p.name())).findFirst();
            if (found.isEmpty()) {
                agree = false;
                continue;
            }
            Tensor s = found.get();
            if (p.datatype() != s.datatype() || !Arrays.equals(p.shape(), s.shape())) {
                agree = false;
                continue;
            }
            if (p.datatype() != DataType.FP32 && p.datatype() != DataType.FP64) {
                agree &= p.contentEquals(s);
                continue;
            }
            double[] a = values(p);
            double[] b = values(s);
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]);
                diff = Double.isNaN(d) ? (Double.isNaN(a[i]) && Double.isNaN(b[i]) ? diff : Double.POSITIVE_INFINITY)
                        : Math.max(diff, d);
            }
            max = Math.max(max, diff);
            if (p.rank() == 2 && p.dim(1) > 0) {
                agree &= sameArgmax(a, b, (int) p.dim(0), (int) p.dim(1));
            } else {
                agree &= diff <= tolerance;
            }
        }
        return new OutputComparison(max, agree);
    }

    private static boolean sameArgmax(double[] a, double[] b, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            if (argmax(a, r * cols, cols) != argmax(b, r * cols, cols)) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(double[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[from + i] > v[from + best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[] values(Tensor t) {
        ByteBuffer b = t.data();
        double[] out = new double[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.datatype() == DataType.FP32 ? b.getFloat(i * 4) : b.getDouble(i * 8);
        }
        return out;
    }
}
