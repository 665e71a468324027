package dev.gantry.core.engine;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrtModelLoaderTest {
    static final Path MODELS = Path.of("..", "models");

    @Test
    void load_minilm_readsSignatureFromTheModel() {
        try (ModelExecutor model = OrtModelLoader.load(MODELS.resolve("minilm/1"), "model.onnx",
                ExecutionSettings.cpuDefaults())) {
            ModelSignature sig = model.signature();
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"),
                    sig.inputs().stream().map(t -> t.name()).toList());
            assertEquals(DataType.INT64, sig.inputs().get(0).datatype().orElseThrow());
            assertArrayEquals(new long[] {-1, -1}, sig.inputs().get(0).shape());
            assertArrayEquals(new long[] {-1, -1, 384}, sig.outputs().get(0).shape());
        }
    }

    @Test
    void run_minilm_returnsOneEmbeddingPerToken() {
        try (ModelExecutor model = OrtModelLoader.load(MODELS.resolve("minilm/1"), "model.onnx",
                ExecutionSettings.cpuDefaults())) {
            long[] shape = {2, 5};
            List<Tensor> inputs = List.of(longs("input_ids", shape, 101, 2023, 2003, 1037, 102, 101, 7592, 102, 0, 0),
                    longs("attention_mask", shape, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
                    longs("token_type_ids", shape, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            List<Tensor> out = model.run(inputs, Set.of());
            assertEquals(1, out.size());
            assertArrayEquals(new long[] {2, 5, 384}, out.get(0).shape());
            assertEquals(DataType.FP32, out.get(0).datatype());
        }
    }

    @Test
    void load_missingFile_failsWithReason() {
        GantryException e = assertThrows(GantryException.class,
                () -> OrtModelLoader.load(MODELS.resolve("minilm/1"), "nope.onnx", ExecutionSettings.cpuDefaults()));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void load_garbageFile_failsWithOrtReason(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("model.onnx"), new byte[] {1, 2, 3, 4, 5});
        GantryException e = assertThrows(GantryException.class,
                () -> OrtModelLoader.load(dir, "model.onnx", ExecutionSettings.cpuDefaults()));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("could not load"), e.getMessage());
    }

    @Test
    void load_onGpuWithoutCuda_failsThatModelWithAClearReason() {
        GantryException e = assertThrows(GantryException.class, () -> OrtModelLoader.load(MODELS.resolve("minilm/1"),
                "model.onnx", new ExecutionSettings(1, 1, false, OptionalInt.of(0))));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
    }

    static Tensor longs(String name, long[] shape, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return Tensor.of(name, DataType.INT64, shape, b.flip());
    }
}
