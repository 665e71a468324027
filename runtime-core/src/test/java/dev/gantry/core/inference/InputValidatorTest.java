package dev.gantry.core.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.testing.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputValidatorTest {
    private static final int MAX_BATCH = 4;
    /** features FP32[-1, 3], mask INT64[-1, -1]; outputs scores, embedding. */
    private static final ModelSignature SIGNATURE = new ModelSignature(
            List.of(TensorSpec.of("features", DataType.FP32, -1, 3), TensorSpec.of("mask", DataType.INT64, -1, -1)),
            List.of(TensorSpec.of("scores", DataType.FP32, -1, 1), TensorSpec.of("embedding", DataType.FP32, -1, 8)));

    @Test
    void validate_aRequestMatchingTheSignature_passes() {
        assertDoesNotThrow(() -> InputValidator.validate(
                request(Set.of("scores"), features(2, 3), mask(2, 5)), SIGNATURE, MAX_BATCH));
    }

    @Test
    void validate_withoutBatching_doesNotLimitTheFirstDimension() {
        ModelSignature fixed = new ModelSignature(List.of(TensorSpec.of("features", DataType.FP32, -1, 3)),
                List.of(TensorSpec.of("scores", DataType.FP32, -1, 1)));

        assertDoesNotThrow(() -> InputValidator.validate(request(Set.of(), features(9, 3)), fixed, 0));
    }

    static Stream<Arguments> invalidRequests() {
        return Stream.of(
                Arguments.of("unknown input",
                        request(Set.of(), features(1, 3), mask(1, 2), Tensors.fp32("extra", new long[] {1}, 1f)),
                        "unknown input 'extra'"),
                Arguments.of("duplicate input",
                        request(Set.of(), features(1, 3), features(1, 3), mask(1, 2)),
                        "input 'features' appears more than once"),
                Arguments.of("missing input",
                        request(Set.of(), features(1, 3)),
                        "missing input 'mask'"),
                Arguments.of("wrong datatype",
                        request(Set.of(), Tensors.int64("features", new long[] {1, 3}, 1, 2, 3), mask(1, 2)),
                        "input 'features' expects FP32, got INT64"),
                Arguments.of("wrong rank",
                        request(Set.of(), Tensors.fp32("features", new long[] {3}, 1, 2, 3), mask(1, 2)),
                        "input 'features' expects rank 2"),
                Arguments.of("wrong fixed dimension",
                        request(Set.of(), features(1, 4), mask(1, 2)),
                        "input 'features' expects shape [*, 3], got [1, 4] (dimension 1)"),
                Arguments.of("zero rows",
                        request(Set.of(), features(0, 3), mask(0, 2)),
                        "input 'features' has batch dimension 0"),
                Arguments.of("more rows than max_batch_size",
                        request(Set.of(), features(MAX_BATCH + 1, 3), mask(MAX_BATCH + 1, 2)),
                        "input 'features' has batch dimension 5; this model takes 1 to 4 rows"),
                Arguments.of("inputs with different batch sizes",
                        request(Set.of(), features(2, 3), mask(3, 2)),
                        "input 'mask' has 3 rows but another input has 2"),
                Arguments.of("unknown requested output",
                        request(Set.of("logits"), features(1, 3), mask(1, 2)),
                        "unknown output 'logits'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidRequests")
    void validate_invalidRequest_failsWithInvalidArgSayingWhy(String what, InferenceRequest request, String message) {
        GantryException e = assertThrows(GantryException.class,
                () -> InputValidator.validate(request, SIGNATURE, MAX_BATCH));

        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains(message), () -> "expected '" + message + "' in: " + e.getMessage());
    }

    @Test
    void validate_whenTheSignatureHasAnUnsupportedInput_failsWithInvalidArgNamingIt() {
        TensorSpec ids = new TensorSpec("ids", Optional.of(DataType.UINT32), "UINT32", new long[] {-1, 3},
                Optional.of("input 'ids' has type UINT32, which ONNX Runtime's Java API cannot create"));
        ModelSignature signature = new ModelSignature(List.of(ids), SIGNATURE.outputs());
        InferenceRequest r = request(Set.of(), Tensors.int64("ids", new long[] {1, 3}, 1, 2, 3));

        GantryException e = assertThrows(GantryException.class, () -> InputValidator.validate(r, signature, MAX_BATCH));

        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains("'ids'"), e.getMessage());
    }

    private static InferenceRequest request(Set<String> outputs, Tensor... inputs) {
        return new InferenceRequest("r", List.of(inputs), outputs, Optional.empty(), Map.of());
    }

    private static Tensor features(int rows, int cols) {
        return Tensors.fp32Rows("features", rows, cols, 0);
    }

    private static Tensor mask(int rows, int cols) {
        return Tensors.int64("mask", new long[] {rows, cols}, new long[rows * cols]);
    }
}
