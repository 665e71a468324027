package dev.gantry.core.inference;

/** Renders tensor shapes for messages, short however many dimensions a client declared. */
public final class Shapes {
    /** Dimensions printed before the rest are summarised as "... (N dims)". */
    public static final int SHOWN_DIMS = 8;

    private Shapes() {
    }

    /** {@code [1, 3, 224, 224]}; past {@link #SHOWN_DIMS} dimensions, {@code [1, 1, ..., 1, ... (1000000 dims)]}. */
    public static String describe(long[] shape) {
        StringBuilder b = new StringBuilder(48).append('[');
        int shown = Math.min(shape.length, SHOWN_DIMS);
        for (int i = 0; i < shown; i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append(shape[i]);
        }
        if (shape.length > shown) {
            b.append(", ... (").append(shape.length).append(" dims)");
        }
        return b.append(']').toString();
    }
}
