package dev.gantry.core.engine;

import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ExecutionPhases;
import dev.gantry.core.scheduling.ModelExecutor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model loaded through DJL on ONNX Runtime. {@link #run} is safe to call from several threads at once:
 * ORT sessions support concurrent runs, so instances of one version share one session.
 */
final class OrtExecutor implements ModelExecutor {
    private final ZooModel<NDList, NDList> model;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final OrtEnvironment env;
    private final ModelSignature signature;
    /** Options of a run that shrinks the CPU arena afterwards, or null when the mode never shrinks it. */
    private final OrtSession.RunOptions runOptions;
    /** When a run last shrank the arena (System.nanoTime); racy by design, a lost update costs one extra shrink. */
    private volatile long lastShrink = System.nanoTime() - OrtMemoryOptions.SHRINK_INTERVAL_NANOS;

    OrtExecutor(ZooModel<NDList, NDList> model, OrtSession session, OrtSession.SessionOptions options,
                OrtSession.RunOptions runOptions) throws OrtException {
        this.model = model;
        this.session = session;
        this.options = options;
        this.runOptions = runOptions;
        this.env = OrtEnvironment.getEnvironment();
        this.signature = SignatureReader.read(session);
    }

    /** The session, for tests that observe what ORT was configured with. */
    OrtSession session() {
        return session;
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
        return run(inputs, outputs, new ExecutionPhases());
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs, Set<String> outputs, ExecutionPhases phases) {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            long start = System.nanoTime();
            for (Tensor t : inputs) {
                feed.put(t.name(), OrtTensors.toOrt(env, t));
            }
            phases.addInput(System.nanoTime() - start);
            boolean shrink = runOptions != null && start - lastShrink >= OrtMemoryOptions.SHRINK_INTERVAL_NANOS;
            if (shrink) {
                lastShrink = start;
            }
            try (OrtSession.Result result = !shrink
                    ? (outputs.isEmpty() ? session.run(feed) : session.run(feed, outputs))
                    : session.run(feed, outputs.isEmpty() ? session.getOutputNames() : outputs, runOptions)) {
                long converting = System.nanoTime();
                List<Tensor> out = new ArrayList<>(result.size());
                for (Map.Entry<String, OnnxValue> e : result) {
                    if (!(e.getValue() instanceof OnnxTensor tensor)) {
                        throw new GantryException(ErrorCode.UNSUPPORTED, "output '" + e.getKey()
                                + "' is not a tensor; Gantry returns tensor outputs only");
                    }
                    out.add(OrtTensors.fromOrt(e.getKey(), tensor));
                }
                phases.addOutput(System.nanoTime() - converting);
                return out;
            }
        } catch (OrtException e) {
            // ORT says INVALID_ARGUMENT when the inputs are at fault (an index out of a table's range, say):
            // that is the caller's error, not the model's.
            ErrorCode code = e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT
                    ? ErrorCode.INVALID_ARG : ErrorCode.INTERNAL;
            throw new GantryException(code, "ONNX Runtime failed: " + e.getMessage());
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    @Override
    public void close() {
        model.close();
        options.close();
        if (runOptions != null) {
            runOptions.close();
        }
    }
}
