package dev.gantry.core.text;

import dev.gantry.store.repository.TextOptions;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class PoolingTest {
    /** Two rows of three tokens of dimension 2; row 1 has two real tokens and one padding token. */
    static final FloatBuffer STATES = FloatBuffer.wrap(new float[]{
            1, 2, 3, 4, 5, 6,
            2, 0, 4, 0, 100, 100});

    @Test
    void mean_withoutNormalising_averagesTheUnmaskedTokensOnly() {
        assertArrayEquals(new float[]{3, 0}, Pooling.pool(STATES, 1, 3, 2, 2, TextOptions.Pooling.MEAN, false));
    }

    @Test
    void mean_withNormalising_hasUnitLength() {
        assertArrayEquals(new float[]{1, 0}, Pooling.pool(STATES, 1, 3, 2, 2, TextOptions.Pooling.MEAN, true));
        float[] v = Pooling.pool(STATES, 0, 3, 2, 3, TextOptions.Pooling.MEAN, true);
        assertArrayEquals(new float[]{(float) (3 / Math.sqrt(25)), (float) (4 / Math.sqrt(25))}, v, 1e-7f);
    }

    @Test
    void cls_takesTheFirstToken() {
        assertArrayEquals(new float[]{1, 2}, Pooling.pool(STATES, 0, 3, 2, 3, TextOptions.Pooling.CLS, false));
    }

    @Test
    void zeroVector_staysZeroWhenNormalised() {
        FloatBuffer zeros = FloatBuffer.wrap(new float[4]);

        assertArrayEquals(new float[]{0, 0}, Pooling.pool(zeros, 0, 2, 2, 2, TextOptions.Pooling.MEAN, true));
    }
}
