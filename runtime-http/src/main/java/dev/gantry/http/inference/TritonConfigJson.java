package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.http.json.Json;
import dev.gantry.store.repository.DynamicBatching;
import dev.gantry.store.repository.GantryOptions;
import dev.gantry.store.repository.InstanceGroup;
import dev.gantry.store.repository.ModelConfig;
import dev.gantry.store.repository.OutputConfig;
import dev.gantry.store.repository.VersionPolicy;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** A model version's effective configuration in the JSON form of Triton's model configuration (the one mapping). */
public final class TritonConfigJson {
    /*
     * What Triton's GET /v2/models/{m}/config returns and its clients (tritonclient's get_model_config,
     * perf_analyzer) read: field names of model_config.proto, enums by name ("TYPE_FP32", "KIND_CPU"), int64
     * fields as JSON numbers, and dims without the batch dimension when max_batch_size > 0. Values are the ones
     * in force: max_batch_size and the batching fields come from the version's batch policy when it is loaded
     * (so server defaults such as the queue size show), types and dims from the model file. dynamic_batching
     * appears only when requests are batched together (not when the configuration asked for it but Gantry
     * turned it off; the metadata's notes say why). "gantry_autocompleted" lists what auto-completion filled.
     */
    private TritonConfigJson() {
    }

    /**
     * @param signature the model's inputs and outputs, once read
     * @param policy the version's batch policy, once loaded
     * @param autocompleted fields filled in from the model itself
     */
    public static ObjectNode render(String model, ModelConfig config, Optional<ModelSignature> signature,
                                    Optional<BatchPolicy> policy, List<String> autocompleted) {
        ObjectNode root = Json.object();
        root.put("name", model);
        root.put("platform", "onnxruntime_onnx");
        root.put("backend", "onnxruntime");
        versionPolicy(root.putObject("version_policy"), config.versionPolicy());
        int maxBatchSize = policy.map(BatchPolicy::maxBatchSize).orElse(config.maxBatchSize());
        root.put("max_batch_size", maxBatchSize);
        ArrayNode inputs = root.putArray("input");
        ArrayNode outputs = root.putArray("output");
        signature.ifPresent(s -> {
            for (TensorSpec t : s.inputs()) {
                ObjectNode in = tensor(inputs.addObject(), t, maxBatchSize);
                in.put("format", "FORMAT_NONE");
                in.put("is_shape_tensor", false);
                in.put("allow_ragged_batch", false);
                in.put("optional", false);
            }
            for (TensorSpec t : s.outputs()) {
                ObjectNode out = tensor(outputs.addObject(), t, maxBatchSize);
                out.put("label_filename", config.output(t.name()).flatMap(OutputConfig::labelFilename).orElse(""));
                out.put("is_shape_tensor", false);
            }
        });
        boolean batching = policy.map(BatchPolicy::batchAcrossRequests).orElse(config.dynamicBatching().isPresent());
        if (batching) {
            dynamicBatching(root.putObject("dynamic_batching"), config.dynamicBatching()
                    .orElse(DynamicBatching.defaults()), policy);
        }
        ArrayNode groups = root.putArray("instance_group");
        for (int i = 0; i < config.instanceGroups().size(); i++) {
            InstanceGroup g = config.instanceGroups().get(i);
            ObjectNode group = groups.addObject();
            group.put("name", model + "_" + i);
            group.put("kind", g.kind().name());
            group.put("count", g.count());
            ArrayNode gpus = group.putArray("gpus");
            g.gpus().forEach(gpus::add);
        }
        root.put("default_model_filename", config.defaultModelFilename());
        parameters(root.putObject("parameters"), config.gantry());
        ArrayNode filled = root.putArray("gantry_autocompleted");
        autocompleted.forEach(filled::add);
        return root;
    }

    /** Triton's name of a tensor element type: TYPE_FP32, TYPE_STRING for BYTES, TYPE_INVALID when unknown. */
    public static String dataType(Optional<DataType> type) {
        return type.map(t -> switch (t) {
            case BYTES -> "TYPE_STRING";
            default -> "TYPE_" + t.name();
        }).orElse("TYPE_INVALID");
    }

    private static ObjectNode tensor(ObjectNode node, TensorSpec t, int maxBatchSize) {
        node.put("name", t.name());
        node.put("data_type", dataType(t.datatype()));
        long[] shape = t.shape();
        long[] dims = maxBatchSize > 0 && shape.length > 0 ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
        ArrayNode d = node.putArray("dims");
        if (dims.length == 0 && maxBatchSize > 0) {
            // Triton's way of writing a tensor that is only a batch dimension: dims [1], reshaped to [].
            d.add(1);
            node.putObject("reshape").putArray("shape");
        } else {
            for (long dim : dims) {
                d.add(dim);
            }
        }
        return node;
    }

    private static void versionPolicy(ObjectNode node, VersionPolicy policy) {
        switch (policy) {
            case VersionPolicy.Latest l -> node.putObject("latest").put("num_versions", l.numVersions());
            case VersionPolicy.All a -> node.putObject("all");
            case VersionPolicy.Specific s -> {
                ArrayNode versions = node.putObject("specific").putArray("versions");
                s.versions().forEach(versions::add);
            }
        }
    }

    private static void dynamicBatching(ObjectNode node, DynamicBatching db, Optional<BatchPolicy> policy) {
        ArrayNode preferred = node.putArray("preferred_batch_size");
        policy.map(BatchPolicy::preferredBatchSizes).orElse(db.preferredBatchSizes()).forEach(preferred::add);
        node.put("max_queue_delay_microseconds", policy.map(BatchPolicy::maxQueueDelayMicros)
                .orElse(db.maxQueueDelayMicros()));
        node.put("preserve_ordering", false);
        ObjectNode queue = node.putObject("default_queue_policy");
        queue.put("max_queue_size", policy.map(BatchPolicy::maxQueueSize).orElse(db.maxQueueSize()));
        queue.put("default_timeout_microseconds", policy.map(BatchPolicy::defaultTimeoutMicros)
                .orElse(db.defaultTimeoutMicros()));
    }

    private static void parameters(ObjectNode node, GantryOptions g) {
        if (g.allowNonInvariantBatching()) {
            parameter(node, "gantry.allow_non_invariant_batching", "true");
        }
        g.intraOpThreads().ifPresent(n -> parameter(node, "gantry.intra_op_threads", Integer.toString(n)));
        g.interOpThreads().ifPresent(n -> parameter(node, "gantry.inter_op_threads", Integer.toString(n)));
        g.allowSpinning().ifPresent(b -> parameter(node, "gantry.allow_spinning", Boolean.toString(b)));
        g.maxBatchElements().ifPresent(n -> parameter(node, "gantry.max_batch_elements", Integer.toString(n)));
    }

    private static void parameter(ObjectNode node, String key, String value) {
        node.putObject(key).put("string_value", value);
    }
}
