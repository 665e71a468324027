package dev.gantry.core.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads a model's inputs and outputs from a loaded ONNX Runtime session. */
final class SignatureReader {
    private SignatureReader() {
    }

    static ModelSignature read(OrtSession session) throws OrtException {
        return new ModelSignature(specs(session.getInputInfo(), true), specs(session.getOutputInfo(), false));
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> infos, boolean inputs) {
        List<TensorSpec> specs = new ArrayList<>();
        for (NodeInfo node : infos.values()) {
            if (!(node.getInfo() instanceof TensorInfo info)) {
                specs.add(new TensorSpec(node.getName(), Optional.empty(), node.getInfo().toString(), new long[0],
                        Optional.of("'" + node.getName() + "' is not a tensor (" + node.getInfo()
                                + "); Gantry serves tensor inputs and outputs only")));
                continue;
            }
            Optional<DataType> type = OrtTypes.toDataType(info.onnxType);
            String onnxName = OrtTypes.onnxName(info.onnxType);
            Optional<String> reason;
            if (type.isEmpty()) {
                reason = Optional.of("'" + node.getName() + "' has element type " + onnxName
                        + ", which Gantry cannot carry");
            } else if (inputs && OrtTypes.inputJavaType(type.get()).isEmpty()) {
                reason = Optional.of("input '" + node.getName() + "' has element type " + type.get()
                        + ", which ONNX Runtime's Java API cannot create tensors of (it has no unsigned 16/32/64-bit"
                        + " tensor constructors); this model cannot be served");
            } else {
                reason = Optional.empty();
            }
            specs.add(new TensorSpec(node.getName(), type, onnxName, dims(info.getShape()), reason));
        }
        return specs;
    }

    private static long[] dims(long[] shape) {
        long[] out = shape.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] < 0) {
                out[i] = -1;
            }
        }
        return out;
    }
}
