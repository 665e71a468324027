package dev.gantry.bench.text;

import dev.gantry.bench.oip.RawOrt;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.text.Pooling;
import dev.gantry.core.text.TextTokenizer;
import dev.gantry.store.repository.TextOptions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The embeddings baseline without a server: the same tokenizer and pooling Gantry uses, and ONNX Runtime
 * called directly. What {@code /v1/embeddings} costs on top of this is Gantry's (HTTP, JSON, queueing).
 */
public final class InProcessEmbedder implements AutoCloseable {
    /** The sentence every embeddings request of the load benchmark carries (16 tokens with [CLS] and [SEP]). */
    public static final String SENTENCE = "Gantry serves versioned ONNX models with dynamic batching over plain HTTP.";

    private final TextTokenizer tokenizer;
    private final RawOrt ort;

    public InProcessEmbedder(Path versionDir, int maxTokens) throws Exception {
        this.tokenizer = TextTokenizer.load(versionDir.resolve("tokenizer.json"), maxTokens);
        this.ort = RawOrt.open(versionDir.resolve("model.onnx"), 1);
    }

    /** Tokenizes, pads to the longest, runs the model once, mean-pools and normalises each row. */
    public List<float[]> embed(List<String> texts) throws Exception {
        List<long[]> ids = tokenizer.encodeAll(texts, true, i -> "input[" + i + "]");
        int longest = ids.stream().mapToInt(r -> r.length).max().orElseThrow();
        int rows = ids.size();
        ByteBuffer in = ByteBuffer.allocate(rows * longest * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer mask = ByteBuffer.allocate(rows * longest * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer types = ByteBuffer.allocate(rows * longest * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] row : ids) {
            for (int t = 0; t < longest; t++) {
                in.putLong(t < row.length ? row[t] : 0);
                mask.putLong(t < row.length ? 1 : 0);
                types.putLong(0);
            }
        }
        long[] shape = {rows, longest};
        Object[] out = ort.run(List.of(Tensor.of("input_ids", DataType.INT64, shape, in.flip()),
                Tensor.of("attention_mask", DataType.INT64, shape, mask.flip()),
                Tensor.of("token_type_ids", DataType.INT64, shape, types.flip())));
        float[] states = (float[]) out[0];
        int dim = states.length / (rows * longest);
        List<float[]> vectors = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            vectors.add(Pooling.pool(FloatBuffer.wrap(states), r, longest, dim, ids.get(r).length,
                    TextOptions.Pooling.MEAN, true));
        }
        return vectors;
    }

    @Override
    public void close() throws Exception {
        tokenizer.close();
        ort.close();
    }
}
