package dev.gantry.store.onnx;

import java.util.Objects;

/** An ONNX model ({@code ModelProto}): one graph plus the IR version and default-domain opset it targets. */
public record OnnxModel(OnnxGraph graph, long irVersion, long opsetVersion, String producerName) {

    public static final long DEFAULT_IR_VERSION = 8;
    public static final long DEFAULT_OPSET_VERSION = 17;
    public static final String DEFAULT_PRODUCER = "gantry";

    public OnnxModel {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(producerName, "producerName");
        if (irVersion < 1) {
            throw new IllegalArgumentException("irVersion must be >= 1, was " + irVersion);
        }
        if (opsetVersion < 1) {
            throw new IllegalArgumentException("opsetVersion must be >= 1, was " + opsetVersion);
        }
    }

    public static OnnxModel of(OnnxGraph graph) {
        return new OnnxModel(graph, DEFAULT_IR_VERSION, DEFAULT_OPSET_VERSION, DEFAULT_PRODUCER);
    }

    /** The serialized model, identical for identical models. */
    public byte[] toBytes() {
        return OnnxEncoder.model(this).toBytes();
    }
}
