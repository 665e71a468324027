package dev.gantry.http.inference;

/**
 * Bounds the OIP codec enforces before it allocates anything for a request.
 *
 * @param maxElementsPerTensor the most elements one input tensor may declare
 * @param maxElementsPerRequest the most elements all inputs of one request may declare together
 * @param maxNestingDepth the deepest JSON nesting (objects and arrays) the request header may use
 */
public record CodecLimits(long maxElementsPerTensor, long maxElementsPerRequest, int maxNestingDepth) {
    public CodecLimits {
        if (maxElementsPerTensor <= 0) {
            throw new IllegalArgumentException("maxElementsPerTensor must be positive, was " + maxElementsPerTensor);
        }
        if (maxElementsPerRequest <= 0) {
            throw new IllegalArgumentException("maxElementsPerRequest must be positive, was " + maxElementsPerRequest);
        }
        if (maxNestingDepth < 4) {
            throw new IllegalArgumentException("maxNestingDepth must be at least 4 (object, inputs, input, data), was "
                    + maxNestingDepth);
        }
    }

    public static CodecLimits defaults() {
        return new CodecLimits(16_777_216L, 67_108_864L, 64);
    }
}
