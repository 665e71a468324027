package dev.gantry.core.lifecycle;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Builds deterministic inputs from a model's signature, for warm-up and the batch-invariance check. */
final class SyntheticInputs {
    private SyntheticInputs() {
    }

    /**
     * Inputs of {@code rows} rows (when the first dimension is dynamic), other dynamic dimensions set to
     * {@code dynamicDim}; integers drawn from [intMin, intBound), floats from [-1, 1).
     */
    static List<Tensor> generate(ModelSignature signature, long rows, long dynamicDim, long intMin, long intBound,
                                 long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Tensor> inputs = new ArrayList<>();
        for (TensorSpec spec : signature.inputs()) {
            long[] shape = spec.shape();
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = i == 0 ? rows : dynamicDim;
                }
            }
            inputs.add(tensor(spec.name(), spec.datatype().orElseThrow(), shape, intMin, intBound, random));
        }
        return inputs;
    }

    /** One tensor of random values: integers from [intMin, intBound), floats from [-1, 1). */
    static Tensor tensor(String name, DataType type, long[] shape, long intMin, long intBound, SplittableRandom r) {
        int n = Math.toIntExact(Tensor.elementCount(shape));
        if (type == DataType.BYTES) {
            List<byte[]> s = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                s.add(("w" + r.nextInt(1000)).getBytes(StandardCharsets.UTF_8));
            }
            return Tensor.ofStrings(name, shape, s);
        }
        ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (type) {
                case BOOL -> b.put((byte) r.nextInt(2));
                case UINT8, INT8 -> b.put((byte) r.nextLong(intMin, Math.min(intBound, 100)));
                case UINT16, INT16 -> b.putShort((short) r.nextLong(intMin, Math.min(intBound, 30000)));
                case UINT32, INT32 -> b.putInt((int) r.nextLong(intMin, intBound));
                case UINT64, INT64 -> b.putLong(r.nextLong(intMin, intBound));
                case FP16 -> b.putShort(Float.floatToFloat16((float) (r.nextDouble() * 2 - 1)));
                case FP32 -> b.putFloat((float) (r.nextDouble() * 2 - 1));
                case FP64 -> b.putDouble(r.nextDouble() * 2 - 1);
                case BYTES -> throw new AssertionError();
            }
        }
        return Tensor.of(name, type, shape, b.flip());
    }
}
