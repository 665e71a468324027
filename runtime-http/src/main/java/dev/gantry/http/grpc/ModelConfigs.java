package dev.gantry.http.grpc;

import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.http.grpc.proto.ModelConfig;
import dev.gantry.http.grpc.proto.ModelDynamicBatching;
import dev.gantry.http.grpc.proto.ModelInput;
import dev.gantry.http.grpc.proto.ModelInstanceGroup;
import dev.gantry.http.grpc.proto.ModelOutput;
import dev.gantry.http.grpc.proto.ModelQueuePolicy;
import dev.gantry.http.grpc.proto.ModelVersionPolicy;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.VersionPolicy;

import java.util.Optional;

/**
 * A model version's effective configuration in Triton's form (the ModelConfig RPC): the signature read from the
 * model, the batch policy the version runs with, and the repository's version policy. One mapping, so the HTTP
 * {@code /config} endpoint can share it.
 */
public final class ModelConfigs {
    /*
     * Triton's dims leave out the batch dimension when max_batch_size > 0; a dynamic dimension is -1. The batch
     * policy is the one in force (what Gantry decided, e.g. batching turned off because the model failed the
     * batch-invariance check), not what the config file asked for. A version that is not READY has no policy
     * yet: its config shows max_batch_size 0 and no dynamic batching.
     */
    public static final String PLATFORM = "onnxruntime_onnx";
    public static final String BACKEND = "onnxruntime";

    private ModelConfigs() {
    }

    public static ModelConfig of(String model, ModelVersionState version, Optional<ModelEntry> entry) {
        ModelConfig.Builder c = ModelConfig.newBuilder().setName(model).setPlatform(PLATFORM).setBackend(BACKEND);
        Optional<BatchPolicy> policy = version.batchPolicy();
        int maxBatch = policy.map(BatchPolicy::maxBatchSize).orElse(0);
        c.setMaxBatchSize(maxBatch);
        version.signature().ifPresent(s -> {
            for (TensorSpec t : s.inputs()) {
                ModelInput.Builder in = c.addInputBuilder().setName(t.name()).setDataType(dataType(t));
                dims(t, maxBatch).forEach(in::addDims);
            }
            for (TensorSpec t : s.outputs()) {
                ModelOutput.Builder out = c.addOutputBuilder().setName(t.name()).setDataType(dataType(t));
                dims(t, maxBatch).forEach(out::addDims);
            }
        });
        policy.ifPresent(p -> {
            if (p.batchAcrossRequests()) {
                ModelDynamicBatching.Builder d = c.getDynamicBatchingBuilder()
                        .setMaxQueueDelayMicroseconds(p.maxQueueDelayMicros())
                        .setDefaultQueuePolicy(ModelQueuePolicy.newBuilder()
                                .setDefaultTimeoutMicroseconds(p.defaultTimeoutMicros())
                                .setAllowTimeoutOverride(true)
                                .setMaxQueueSize(p.maxQueueSize()));
                p.preferredBatchSizes().forEach(d::addPreferredBatchSize);
            }
            c.addInstanceGroup(ModelInstanceGroup.newBuilder().setName(model).setKind(ModelInstanceGroup.Kind.KIND_CPU)
                    .setCount(p.instanceCount()));
        });
        entry.ifPresent(e -> {
            c.setDefaultModelFilename(e.config().defaultModelFilename());
            c.setVersionPolicy(versionPolicy(e.config().versionPolicy()));
        });
        return c.build();
    }

    private static java.util.List<Long> dims(TensorSpec t, int maxBatch) {
        long[] shape = t.shape();
        int from = maxBatch > 0 && shape.length > 0 ? 1 : 0;
        java.util.List<Long> dims = new java.util.ArrayList<>(shape.length);
        for (int i = from; i < shape.length; i++) {
            dims.add(shape[i] < 0 ? -1 : shape[i]);
        }
        return dims;
    }

    static dev.gantry.http.grpc.proto.DataType dataType(TensorSpec t) {
        if (t.datatype().isEmpty()) {
            return dev.gantry.http.grpc.proto.DataType.TYPE_INVALID;
        }
        DataType type = t.datatype().get();
        return switch (type) {
            case BOOL -> dev.gantry.http.grpc.proto.DataType.TYPE_BOOL;
            case UINT8 -> dev.gantry.http.grpc.proto.DataType.TYPE_UINT8;
            case UINT16 -> dev.gantry.http.grpc.proto.DataType.TYPE_UINT16;
            case UINT32 -> dev.gantry.http.grpc.proto.DataType.TYPE_UINT32;
            case UINT64 -> dev.gantry.http.grpc.proto.DataType.TYPE_UINT64;
            case INT8 -> dev.gantry.http.grpc.proto.DataType.TYPE_INT8;
            case INT16 -> dev.gantry.http.grpc.proto.DataType.TYPE_INT16;
            case INT32 -> dev.gantry.http.grpc.proto.DataType.TYPE_INT32;
            case INT64 -> dev.gantry.http.grpc.proto.DataType.TYPE_INT64;
            case FP16 -> dev.gantry.http.grpc.proto.DataType.TYPE_FP16;
            case FP32 -> dev.gantry.http.grpc.proto.DataType.TYPE_FP32;
            case FP64 -> dev.gantry.http.grpc.proto.DataType.TYPE_FP64;
            case BYTES -> dev.gantry.http.grpc.proto.DataType.TYPE_STRING;
        };
    }

    private static ModelVersionPolicy versionPolicy(VersionPolicy p) {
        ModelVersionPolicy.Builder b = ModelVersionPolicy.newBuilder();
        switch (p) {
            case VersionPolicy.Latest l -> b.setLatest(ModelVersionPolicy.Latest.newBuilder()
                    .setNumVersions(l.numVersions()));
            case VersionPolicy.All a -> b.setAll(ModelVersionPolicy.All.getDefaultInstance());
            case VersionPolicy.Specific s -> b.setSpecific(ModelVersionPolicy.Specific.newBuilder()
                    .addAllVersions(s.versions()));
        }
        return b.build();
    }
}
