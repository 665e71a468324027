package dev.gantry.bench.oip;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic synthetic inputs for the benchmark models, as Gantry tensors (raw little-endian bytes). */
public final class Payloads {
    /** The mlp model's input width. */
    public static final int MLP_FEATURES = 64;
    /** FP32 elements of the 600 KB tensor used to compare JSON and binary bodies. */
    public static final int LARGE_FP32_ELEMENTS = 153_600;

    private static final long SEED = 0x6a4e7279L;

    private Payloads() {
    }

    /** A random FP32 tensor; values in [-1, 1). */
    public static Tensor fp32(String name, long... shape) {
        int n = Math.toIntExact(Tensor.elementCount(shape));
        SplittableRandom random = new SplittableRandom(SEED + n);
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat((float) (random.nextDouble() * 2 - 1));
        }
        return Tensor.of(name, DataType.FP32, shape, b.flip());
    }

    /** {@code rows} rows of the mlp model's {@code features} input. */
    public static List<Tensor> mlp(int rows) {
        return List.of(fp32("features", rows, MLP_FEATURES));
    }

    /**
     * MiniLM inputs of {@code rows} sequences of {@code seqLen} tokens: [CLS], word-piece ids from the
     * vocabulary's ordinary range, [SEP]; attention mask all ones, token types all zero.
     */
    public static List<Tensor> minilm(int rows, int seqLen) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("seqLen must be >= 2 for [CLS] and [SEP], was " + seqLen);
        }
        SplittableRandom random = new SplittableRandom(SEED + seqLen);
        int n = rows * seqLen;
        ByteBuffer ids = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer mask = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer types = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < seqLen; i++) {
                long id = i == 0 ? 101 : i == seqLen - 1 ? 102 : 2000 + random.nextInt(20_000);
                ids.putLong(id);
                mask.putLong(1);
                types.putLong(0);
            }
        }
        long[] shape = {rows, seqLen};
        return List.of(Tensor.of("input_ids", DataType.INT64, shape, ids.flip()),
                Tensor.of("attention_mask", DataType.INT64, shape, mask.flip()),
                Tensor.of("token_type_ids", DataType.INT64, shape, types.flip()));
    }
}
