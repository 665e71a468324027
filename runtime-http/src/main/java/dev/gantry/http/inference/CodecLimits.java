package dev.gantry.http.inference;

import java.time.Duration;

/**
 * Bounds the OIP codec enforces before it allocates anything for a request.
 *
 * @param maxElementsPerTensor the most elements one input tensor may declare
 * @param maxElementsPerRequest the most elements all inputs of one request may declare together
 * @param maxNestingDepth the deepest JSON nesting (objects and arrays) the request header may use
 * @param maxRank the most dimensions one input's shape may have
 * @param maxTimeout the longest queue timeout a request may ask for with {@code parameters.timeout}
 */
public record CodecLimits(long maxElementsPerTensor, long maxElementsPerRequest, int maxNestingDepth, int maxRank,
                          Duration maxTimeout) {
    /*
     * Rank. ONNX sets no limit on a tensor's rank and models in practice use a handful of dimensions (rarely
     * more than 6); 16 leaves room for any real model while keeping a request from carrying millions of
     * dimensions (a 64 MiB body holds 30 M of them). A model's own signature still decides the exact rank.
     */
    public static final int DEFAULT_MAX_RANK = 16;
    public static final Duration DEFAULT_MAX_TIMEOUT = Duration.ofMinutes(10);

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
        if (maxRank < 1) {
            throw new IllegalArgumentException("maxRank must be at least 1, was " + maxRank);
        }
        if (maxTimeout == null || maxTimeout.isNegative() || maxTimeout.isZero()) {
            throw new IllegalArgumentException("maxTimeout must be positive, was " + maxTimeout);
        }
    }

    /** Element and nesting limits as given, with the default rank and timeout limits. */
    public CodecLimits(long maxElementsPerTensor, long maxElementsPerRequest, int maxNestingDepth) {
        this(maxElementsPerTensor, maxElementsPerRequest, maxNestingDepth, DEFAULT_MAX_RANK, DEFAULT_MAX_TIMEOUT);
    }

    public static CodecLimits defaults() {
        return new CodecLimits(16_777_216L, 67_108_864L, 64);
    }

    public CodecLimits withMaxTimeout(Duration max) {
        return new CodecLimits(maxElementsPerTensor, maxElementsPerRequest, maxNestingDepth, maxRank, max);
    }

    long maxTimeoutMicros() {
        return maxTimeout.toNanos() / 1_000;
    }
}
