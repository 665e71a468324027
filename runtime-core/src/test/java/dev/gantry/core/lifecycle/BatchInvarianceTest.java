package dev.gantry.core.lifecycle;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.core.testing.Tensors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchInvarianceTest {
    @Test
    void check_aModelThatComputesEachRowAlone_isInvariant() {
        RecordingExecutor rowWise = new RecordingExecutor();

        Optional<String> variance = BatchInvariance.check(rowWise, rowWise.signature(), 4, /* seed= */ 7);

        assertEquals(Optional.empty(), variance);
        assertEquals(List.of(4, 1, 1, 1, 1), rowWise.runs().stream().map(RecordingExecutor.Run::rows).toList());
    }

    @Test
    void check_aModelThatScalesByTheBatchMaximum_isNotInvariantAndNamesTheOutput() {
        ModelExecutor quantizing = new DynamicallyQuantizingExecutor();

        Optional<String> variance = BatchInvariance.check(quantizing, quantizing.signature(), 4, /* seed= */ 7);

        assertTrue(variance.isPresent(), "a batch-dependent model passed the check");
        assertTrue(variance.get().contains("'dequantized'"), variance.get());
    }

    /**
     * Like a dynamically quantized model: the scale comes from the largest magnitude in the whole input, so a
     * row's result depends on the rows batched with it.
     */
    private static final class DynamicallyQuantizingExecutor implements ModelExecutor {
        private final ModelSignature signature = new ModelSignature(
                List.of(TensorSpec.of("x", DataType.FP32, -1, -1)),
                List.of(TensorSpec.of("dequantized", DataType.FP32, -1, -1)));

        @Override
        public ModelSignature signature() {
            return signature;
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
            Tensor x = inputs.get(0);
            float[] v = Tensors.floats(x);
            float max = 0;
            for (float f : v) {
                max = Math.max(max, Math.abs(f));
            }
            float scale = max == 0 ? 1 : max / 127;
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.round(v[i] / scale) * scale;
            }
            return List.of(Tensors.fp32("dequantized", x.shape(), v));
        }

        @Override
        public void close() {
        }
    }
}
