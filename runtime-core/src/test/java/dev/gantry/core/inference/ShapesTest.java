package dev.gantry.core.inference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ShapesTest {
    @Test
    void describe_upToEightDimensions_printsThemAll() {
        assertEquals("[1, 3, 224, 224, 5, 6, 7, 8]", Shapes.describe(new long[] {1, 3, 224, 224, 5, 6, 7, 8}));
    }

    @Test
    void describe_pastEightDimensions_printsEightAndTheCount() {
        long[] shape = new long[1_000_000];
        java.util.Arrays.fill(shape, 1);

        assertEquals("[1, 1, 1, 1, 1, 1, 1, 1, ... (1000000 dims)]", Shapes.describe(shape));
    }

    @Test
    void describe_scalar_printsEmptyBrackets() {
        assertEquals("[]", Shapes.describe(new long[0]));
    }
}
