package dev.gantry.core.text;

import dev.gantry.store.repository.TextOptions;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Turns the token states of one input into one vector: mean over the attention mask or the first token, then L2. */
public final class Pooling {
    /*
     * Sums are kept in double and the result rounded to float once, so the vector does not depend on the
     * summation order more than float rounding of the states themselves does. A zero vector (all states zero,
     * or no unmasked token) stays zero instead of dividing by zero.
     */
    private Pooling() {
    }

    /**
     * @param states the model's output, row-major [rows, tokens, dim] FP32
     * @param row    which row
     * @param tokens the padded sequence length of the execution
     * @param dim    the hidden size
     * @param length how many leading tokens of this row are real (its attention mask is 1 there, 0 after)
     */
    public static float[] pool(FloatBuffer states, int row, int tokens, int dim, int length,
                               TextOptions.Pooling pooling, boolean normalize) {
        double[] sum = new double[dim];
        int base = row * tokens * dim;
        int counted = pooling == TextOptions.Pooling.CLS ? Math.min(1, length) : length;
        for (int t = 0; t < counted; t++) {
            int offset = base + t * dim;
            for (int d = 0; d < dim; d++) {
                sum[d] += states.get(offset + d);
            }
        }
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            sum[d] /= Math.max(counted, 1);
            norm += sum[d] * sum[d];
        }
        double scale = normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
        float[] out = new float[dim];
        for (int d = 0; d < dim; d++) {
            out[d] = (float) (sum[d] * scale);
        }
        return out;
    }

    /** A float view of a little-endian FP32 tensor's bytes. */
    static FloatBuffer floats(java.nio.ByteBuffer data) {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }
}
