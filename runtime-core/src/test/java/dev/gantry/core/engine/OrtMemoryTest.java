package dev.gantry.core.engine;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.scheduling.ModelExecutor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ORT memory modes reach the session. Observed through ORT itself: it shrinks a session's CPU arena on request
 * and refuses the request ("Did not find an arena based allocator") when the session has none.
 */
class OrtMemoryTest {
    private static final Path MLP = Path.of("..", "models", "mlp", "1");

    private static OrtExecutor load(OrtMemory memory) {
        return (OrtExecutor) OrtModelLoader.load(MLP, "model.onnx",
                new ExecutionSettings(1, 1, false, OptionalInt.empty(), memory));
    }

    private static OrtSession.Result runShrinkingTheCpuArena(OrtSession session) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        String input = session.getInputNames().iterator().next();
        try (OnnxTensor features = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[64]), new long[] {1, 64});
             OrtSession.RunOptions shrink = OrtMemoryOptions.runOptions(OrtMemory.ARENA_SHRINK)) {
            return session.run(Map.of(input, features), shrink);
        }
    }

    @Test
    void noArena_sessionHasNoCpuArena_soOrtRefusesToShrinkOne() {
        try (OrtExecutor model = load(OrtMemory.NO_ARENA)) {
            OrtException e = assertThrows(OrtException.class, () -> runShrinkingTheCpuArena(model.session()).close());
            assertTrue(e.getMessage().contains("Did not find an arena based allocator"), e.getMessage());
        }
    }

    @Test
    void arena_sessionHasACpuArena_thatOrtShrinksOnRequest() throws Exception {
        try (OrtExecutor model = load(OrtMemory.ARENA); OrtSession.Result result = runShrinkingTheCpuArena(model.session())) {
            assertEquals(1, result.size());
        }
    }

    @Test
    void arenaShrink_runsEveryRequestWithTheShrinkOption_andAnswers() {
        try (ModelExecutor model = load(OrtMemory.ARENA_SHRINK)) {
            ByteBuffer data = ByteBuffer.allocate(2 * 64 * 4).order(ByteOrder.LITTLE_ENDIAN);
            List<Tensor> out = model.run(List.of(Tensor.of("features", DataType.FP32, new long[] {2, 64}, data)),
                    Set.of());
            assertEquals(2, out.get(0).shape()[0]);
        }
    }

    @Test
    void of_unknownMode_namesTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OrtMemory.of("pool"));
        assertEquals("'pool' is not an ORT memory mode; use one of arena, arena-shrink, no-arena", e.getMessage());
    }
}
