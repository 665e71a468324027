package dev.gantry.core.text;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import dev.gantry.store.repository.TextOptions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Serves embeddings calls: tokenizes with the serving version's tokenizer, runs the encoder through the same
 * router, scheduler and batcher as every other request, and pools the token states into one vector per input.
 */
public final class TextEmbedder {
    /*
     * Routing. The version is chosen once per call (ModelRouter.inferAll) and the tokenizer is the one of
     * that version, so a rollout that changes the vocabulary never mixes a tokenizer with the wrong model.
     *
     * Executions. The inputs of a call are cut into executions of at most max_batch_size rows, each padded
     * to its longest input (attention mask 0 on the padding, so mean pooling ignores it). Executions of
     * different calls with the same padded length are joined by the dynamic batcher like any other request.
     * A version that is not batched across requests (not batch-invariant, such as the quantized MiniLM) gets
     * one execution per input: its rows would otherwise change with the other inputs of the call, and a
     * text's vector must not depend on what was sent with it.
     *
     * Threads. embed() tokenizes on the calling thread (callers keep it off event loops); pooling runs on the
     * scheduler's thread that completes the executions.
     */
    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";
    static final String HIDDEN_STATE = "last_hidden_state";

    private final ModelRepositoryManager repository;
    private final ModelRouter router;
    private final Map<String, TextTokenizer> tokenizers = new ConcurrentHashMap<>();

    public TextEmbedder(ModelRepositoryManager repository, ModelRouter router) {
        this.repository = repository;
        this.router = router;
    }

    /** The text settings of {@code model}, or empty if it is not a text model (or unknown). */
    public Optional<TextOptions> options(String model) {
        return repository.model(model).flatMap(e -> e.config().gantry().text());
    }

    /** The names of the text models, in repository order. */
    public List<String> models() {
        return repository.models().values().stream().filter(e -> e.config().gantry().text().isPresent())
                .map(ModelEntry::name).toList();
    }

    /** Embeds every input of {@code request}; failures complete the future with a {@link GantryException}. */
    public CompletableFuture<EmbeddingResult> embed(EmbeddingRequest request) {
        Optional<TextOptions> options = options(request.model());
        if (options.isEmpty()) {
            boolean known = repository.model(request.model()).isPresent()
                    || !repository.lifecycle().versions(request.model()).isEmpty();
            return CompletableFuture.failedFuture(known
                    ? new GantryException(ErrorCode.INVALID_ARG, "model '" + request.model() + "' is not a text"
                    + " embedding model: its configuration has no gantry.text section")
                    : GantryException.notFound("unknown model '" + request.model() + "'"));
        }
        if (request.inputs().isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.invalid("input must not be empty"));
        }
        TextOptions text = options.get();
        // The router builds the requests for the version it picked (again if it re-routes); keep the last plan.
        AtomicReference<Plan> planned = new AtomicReference<>();
        return router.inferAll(request.model(), request.version(), request.routingKey(), target -> {
            Plan plan = plan(request, text, target);
            planned.set(plan);
            return plan.requests();
        }).thenApply(routed -> {
            Plan plan = planned.get();
            List<float[]> vectors = new ArrayList<>(request.inputs().size());
            for (int c = 0; c < routed.responses().size(); c++) {
                vectors.addAll(pool(routed.responses().get(c), plan, c, text));
            }
            if (request.dimensions().isPresent() && !vectors.isEmpty()
                    && vectors.get(0).length != request.dimensions().getAsInt()) {
                throw dimensionsRefused(request, vectors.get(0).length);
            }
            return new EmbeddingResult(routed.model(), vectors, plan.tokens(), routed.kind());
        });
    }

    /** What one call runs on one version: the executions, and each one's inputs' lengths. */
    private record Plan(List<InferenceRequest> requests, List<int[]> lengths, String output, long tokens) {
    }

    private Plan plan(EmbeddingRequest request, TextOptions text, ModelVersionState target) {
        ModelSignature signature = target.signature().orElseThrow();
        String output = checkSignature(target, signature);
        long dim = signature.output(output).orElseThrow().dim(2);
        if (request.dimensions().isPresent() && dim > 0 && dim != request.dimensions().getAsInt()) {
            throw dimensionsRefused(request, dim);
        }
        TextTokenizer tokenizer = tokenizer(target, text);
        List<long[]> ids = tokenize(request, tokenizer);
        BatchPolicy policy = target.batchPolicy().orElseThrow();
        int rowsPerExecution = policy.batchAcrossRequests() ? Math.max(1, policy.maxBatchSize()) : 1;
        boolean typeIds = signature.input(TOKEN_TYPE_IDS).isPresent();
        boolean mask = signature.input(ATTENTION_MASK).isPresent();
        List<InferenceRequest> requests = new ArrayList<>();
        List<int[]> lengths = new ArrayList<>();
        long tokens = 0;
        for (int from = 0; from < ids.size(); from += rowsPerExecution) {
            List<long[]> rows = ids.subList(from, Math.min(ids.size(), from + rowsPerExecution));
            int longest = rows.stream().mapToInt(r -> r.length).max().orElseThrow();
            int[] rowLengths = rows.stream().mapToInt(r -> r.length).toArray();
            List<Tensor> inputs = new ArrayList<>(3);
            inputs.add(padded(INPUT_IDS, rows, longest, RowFill.IDS));
            if (mask) {
                inputs.add(padded(ATTENTION_MASK, rows, longest, RowFill.MASK));
            }
            if (typeIds) {
                inputs.add(padded(TOKEN_TYPE_IDS, rows, longest, RowFill.ZEROS));
            }
            requests.add(new InferenceRequest("", inputs, Set.of(output), Optional.empty(), Map.of()));
            lengths.add(rowLengths);
            for (int n : rowLengths) {
                tokens += n;
            }
        }
        return new Plan(requests, lengths, output, tokens);
    }

    private static GantryException dimensionsRefused(EmbeddingRequest request, long dim) {
        return new GantryException(ErrorCode.INVALID_ARG, "dimensions must equal the dimension of model '"
                + request.model() + "', " + dim + ", was " + request.dimensions().getAsInt()
                + " (Gantry does not shorten embeddings)");
    }

    /** The name of the token-state output; refuses a model whose inputs and outputs are not an encoder's. */
    private static String checkSignature(ModelVersionState target, ModelSignature signature) {
        String what = "model '" + target.id().name() + "' version " + target.id().version();
        for (TensorSpec in : signature.inputs()) {
            boolean known = in.name().equals(INPUT_IDS) || in.name().equals(ATTENTION_MASK)
                    || in.name().equals(TOKEN_TYPE_IDS);
            if (!known || in.datatype().orElse(null) != DataType.INT64 || in.rank() != 2) {
                throw new GantryException(ErrorCode.INVALID_ARG, what + " is not a text encoder Gantry can feed:"
                        + " its input " + in + " is not one of input_ids, attention_mask, token_type_ids as INT64"
                        + " [batch, tokens]");
            }
        }
        if (signature.input(INPUT_IDS).isEmpty()) {
            throw new GantryException(ErrorCode.INVALID_ARG, what + " has no input 'input_ids'");
        }
        Optional<TensorSpec> out = signature.output(HIDDEN_STATE).or(() -> signature.outputs().stream()
                .filter(o -> o.rank() == 3).findFirst());
        if (out.isEmpty() || out.get().datatype().orElse(null) != DataType.FP32 || out.get().rank() != 3) {
            throw new GantryException(ErrorCode.INVALID_ARG, what + " has no FP32 [batch, tokens, dim] output"
                    + " to pool; its outputs are " + signature.outputs());
        }
        return out.get().name();
    }

    private static List<long[]> tokenize(EmbeddingRequest request, TextTokenizer tokenizer) {
        List<EmbeddingInput> inputs = request.inputs();
        long[][] ids = new long[inputs.size()][];
        List<String> texts = new ArrayList<>();
        List<Integer> textIndex = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            switch (inputs.get(i)) {
                case EmbeddingInput.Text t -> {
                    texts.add(t.text());
                    textIndex.add(i);
                }
                case EmbeddingInput.TokenIds t -> ids[i] = checkedIds(t.ids(), tokenizer, label(inputs, i));
            }
        }
        List<long[]> encoded = tokenizer.encodeAll(texts, request.truncate(), k -> label(inputs, textIndex.get(k)));
        for (int k = 0; k < encoded.size(); k++) {
            ids[textIndex.get(k)] = encoded.get(k);
        }
        return List.of(ids);
    }

    private static String label(List<EmbeddingInput> inputs, int i) {
        return inputs.size() == 1 ? "input" : "input[" + i + "]";
    }

    private static long[] checkedIds(long[] ids, TextTokenizer tokenizer, String what) {
        if (ids.length == 0) {
            throw GantryException.invalid(what + " is an empty list of token ids");
        }
        if (ids.length > tokenizer.maxTokens()) {
            throw GantryException.invalid(what + " has " + ids.length + " token ids, more than the model's limit of "
                    + tokenizer.maxTokens() + " (token ids are never truncated)");
        }
        for (long id : ids) {
            if (id < 0 || id >= tokenizer.vocabularySize()) {
                throw GantryException.invalid(what + " holds token id " + id + ", outside the model's vocabulary"
                        + " [0, " + tokenizer.vocabularySize() + ")");
            }
        }
        return ids;
    }

    private enum RowFill { IDS, MASK, ZEROS }

    private static Tensor padded(String name, List<long[]> rows, int longest, RowFill fill) {
        ByteBuffer data = ByteBuffer.allocate(rows.size() * longest * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] row : rows) {
            for (int t = 0; t < longest; t++) {
                long v = switch (fill) {
                    case IDS -> t < row.length ? row[t] : 0;
                    case MASK -> t < row.length ? 1 : 0;
                    case ZEROS -> 0;
                };
                data.putLong(v);
            }
        }
        return Tensor.of(name, DataType.INT64, new long[]{rows.size(), longest}, data.flip());
    }

    private static List<float[]> pool(InferenceResponse response, Plan plan, int execution, TextOptions text) {
        Tensor states = response.outputs().stream().filter(t -> t.name().equals(plan.output())).findFirst()
                .orElseThrow(() -> new GantryException(ErrorCode.INTERNAL, "the model returned no output '"
                        + plan.output() + "'"));
        long[] shape = states.shape();
        int[] lengths = plan.lengths().get(execution);
        FloatBuffer floats = Pooling.floats(states.data());
        List<float[]> out = new ArrayList<>(lengths.length);
        for (int r = 0; r < lengths.length; r++) {
            out.add(Pooling.pool(floats, r, (int) shape[1], (int) shape[2], lengths[r], text.pooling(),
                    text.normalize()));
        }
        return out;
    }

    private TextTokenizer tokenizer(ModelVersionState target, TextOptions text) {
        Path file = tokenizerFile(target, text);
        String key = file.toAbsolutePath().normalize() + "|" + text.maxTokens();
        TextTokenizer cached = tokenizers.get(key);
        if (cached != null) {
            return cached;
        }
        return tokenizers.computeIfAbsent(key, k -> TextTokenizer.load(file, text.maxTokens()));
    }

    /** The version directory's tokenizer file if it has one, else the model directory's. */
    private Path tokenizerFile(ModelVersionState target, TextOptions text) {
        ModelEntry entry = repository.model(target.id().name()).orElseThrow(() -> GantryException.notFound(
                "unknown model '" + target.id().name() + "'"));
        Optional<Path> versionDir = entry.versions().stream().filter(v -> v.version() == target.id().version())
                .map(ModelVersionEntry::directory).findFirst();
        if (versionDir.isPresent() && Files.isRegularFile(versionDir.get().resolve(text.tokenizer()))) {
            return versionDir.get().resolve(text.tokenizer());
        }
        Path inModel = entry.directory().resolve(text.tokenizer());
        if (Files.isRegularFile(inModel)) {
            return inModel;
        }
        throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + target.id().name() + "' version "
                + target.id().version() + " has no tokenizer file '" + text.tokenizer() + "' in its version or model"
                + " directory");
    }
}
