package dev.gantry.core.routing;

import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.testing.Tensors;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputComparisonTest {
    private static InferenceResponse logits(long version, float... v) {
        return new InferenceResponse(new ModelId("m", version), "",
                List.of(Tensors.fp32("logits", new long[] {2, 2}, v)));
    }

    @Test
    void sameArgmaxPerRow_agrees_andReportsMaxAbsDiff() {
        OutputComparison c = OutputComparison.compare(logits(1, 0.9f, 0.1f, 0.2f, 0.8f),
                logits(2, 0.7f, 0.3f, 0.4f, 0.6f), 1e-4);
        assertTrue(c.agree());
        assertEquals(0.2, c.maxAbsDiff(), 1e-6);
    }

    @Test
    void differentArgmaxInOneRow_disagrees() {
        OutputComparison c = OutputComparison.compare(logits(1, 0.9f, 0.1f, 0.2f, 0.8f),
                logits(2, 0.9f, 0.1f, 0.8f, 0.2f), 1e-4);
        assertFalse(c.agree());
    }

    @Test
    void differentShape_disagrees() {
        InferenceResponse other = new InferenceResponse(new ModelId("m", 2), "",
                List.of(Tensors.fp32("logits", new long[] {4}, 0.9f, 0.1f, 0.2f, 0.8f)));
        assertFalse(OutputComparison.compare(logits(1, 0.9f, 0.1f, 0.2f, 0.8f), other, 1e-4).agree());
    }
}
