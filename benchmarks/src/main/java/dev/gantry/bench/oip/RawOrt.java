package dev.gantry.bench.oip;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gantry.core.inference.Tensor;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime used directly, as a team without a serving platform would: one session, tensors built from
 * buffers, outputs copied out. Session options match Gantry's CPU defaults (one intra-op thread, sequential,
 * no spinning, all graph optimizations) unless told otherwise.
 */
public final class RawOrt implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession.SessionOptions options;
    private final OrtSession session;

    private RawOrt(OrtSession.SessionOptions options, OrtSession session) {
        this.options = options;
        this.session = session;
    }

    public static RawOrt open(Path modelFile, int intraOpThreads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(intraOpThreads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        options.addConfigEntry("session.inter_op.allow_spinning", "0");
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession session = OrtEnvironment.getEnvironment().createSession(modelFile.toString(), options);
        return new RawOrt(options, session);
    }

    public OrtSession session() {
        return session;
    }

    public OrtEnvironment env() {
        return env;
    }

    /** Runs the model on Gantry tensors (FP32, INT64 only) and copies every output to a heap array. */
    public Object[] run(List<Tensor> inputs) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (Tensor t : inputs) {
                feed.put(t.name(), toOrt(t));
            }
            try (OrtSession.Result result = session.run(feed)) {
                Object[] out = new Object[result.size()];
                int i = 0;
                for (Map.Entry<String, OnnxValue> e : result) {
                    out[i++] = copyOut((OnnxTensor) e.getValue());
                }
                return out;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor toOrt(Tensor t) throws OrtException {
        ByteBuffer data = t.data();
        return switch (t.datatype()) {
            case FP32 -> OnnxTensor.createTensor(env, data.asFloatBuffer(), t.shape());
            case INT64 -> OnnxTensor.createTensor(env, data.asLongBuffer(), t.shape());
            default -> throw new IllegalArgumentException("RawOrt feeds FP32 and INT64 only, not " + t.datatype());
        };
    }

    private static Object copyOut(OnnxTensor t) {
        return switch (t.getInfo().type) {
            case FLOAT -> {
                var b = t.getFloatBuffer();
                float[] a = new float[b.remaining()];
                b.get(a);
                yield a;
            }
            case INT64 -> {
                var b = t.getLongBuffer();
                long[] a = new long[b.remaining()];
                b.get(a);
                yield a;
            }
            default -> throw new IllegalArgumentException("RawOrt copies FP32 and INT64 outputs only, not "
                    + t.getInfo().type);
        };
    }

    @Override
    public void close() throws OrtException {
        session.close();
        options.close();
    }
}
