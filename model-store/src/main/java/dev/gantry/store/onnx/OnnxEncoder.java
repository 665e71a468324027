package dev.gantry.store.onnx;

/** Encodes the model types as the onnx.proto messages; every field number used is defined here. */
final class OnnxEncoder {

    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;

    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;

    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;

    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;

    private static final int ATTRIBUTE_NAME = 1;
    private static final int ATTRIBUTE_F = 2;
    private static final int ATTRIBUTE_I = 3;
    private static final int ATTRIBUTE_S = 4;
    private static final int ATTRIBUTE_INTS = 8;
    private static final int ATTRIBUTE_TYPE = 20;

    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;

    private static final int VALUE_INFO_NAME = 1;
    private static final int VALUE_INFO_TYPE = 2;
    private static final int TYPE_TENSOR_TYPE = 1;
    private static final int TENSOR_TYPE_ELEM_TYPE = 1;
    private static final int TENSOR_TYPE_SHAPE = 2;
    private static final int SHAPE_DIM = 1;
    private static final int DIM_VALUE = 1;
    private static final int DIM_PARAM = 2;

    private OnnxEncoder() {
    }

    static ProtoWriter model(OnnxModel model) {
        ProtoWriter opset = new ProtoWriter()
                .string(OPSET_DOMAIN, "")
                .int64(OPSET_VERSION, model.opsetVersion());
        return new ProtoWriter()
                .int64(MODEL_IR_VERSION, model.irVersion())
                .string(MODEL_PRODUCER_NAME, model.producerName())
                .message(MODEL_GRAPH, graph(model.graph()))
                .message(MODEL_OPSET_IMPORT, opset);
    }

    static ProtoWriter graph(OnnxGraph graph) {
        ProtoWriter w = new ProtoWriter();
        graph.nodes().forEach(n -> w.message(GRAPH_NODE, node(n)));
        w.string(GRAPH_NAME, graph.name());
        graph.initializers().forEach(t -> w.message(GRAPH_INITIALIZER, tensor(t)));
        graph.inputs().forEach(v -> w.message(GRAPH_INPUT, valueInfo(v)));
        graph.outputs().forEach(v -> w.message(GRAPH_OUTPUT, valueInfo(v)));
        return w;
    }

    static ProtoWriter node(Node node) {
        ProtoWriter w = new ProtoWriter();
        node.inputs().forEach(i -> w.string(NODE_INPUT, i));
        node.outputs().forEach(o -> w.string(NODE_OUTPUT, o));
        w.string(NODE_NAME, node.name()).string(NODE_OP_TYPE, node.opType());
        node.attributes().forEach(a -> w.message(NODE_ATTRIBUTE, attribute(a)));
        return w;
    }

    static ProtoWriter attribute(Attribute attribute) {
        ProtoWriter w = new ProtoWriter().string(ATTRIBUTE_NAME, attribute.name());
        switch (attribute.kind()) {
            case FLOAT -> w.fixed32(ATTRIBUTE_F, Float.floatToRawIntBits(attribute.floatValue()));
            case INT -> w.int64(ATTRIBUTE_I, attribute.ints()[0]);
            case STRING -> w.string(ATTRIBUTE_S, attribute.string());
            case INTS -> w.packedInt64(ATTRIBUTE_INTS, attribute.ints());
        }
        return w.int64(ATTRIBUTE_TYPE, attribute.kind().code);
    }

    static ProtoWriter tensor(Initializer tensor) {
        return new ProtoWriter()
                .packedInt64(TENSOR_DIMS, tensor.dims())
                .int64(TENSOR_DATA_TYPE, tensor.type().code())
                .string(TENSOR_NAME, tensor.name())
                .bytes(TENSOR_RAW_DATA, tensor.rawData());
    }

    static ProtoWriter valueInfo(ValueInfo value) {
        ProtoWriter shape = new ProtoWriter();
        for (Dim dim : value.shape()) {
            ProtoWriter d = dim.isSymbolic()
                    ? new ProtoWriter().string(DIM_PARAM, dim.param())
                    : new ProtoWriter().int64(DIM_VALUE, dim.value());
            shape.message(SHAPE_DIM, d);
        }
        ProtoWriter tensorType = new ProtoWriter()
                .int64(TENSOR_TYPE_ELEM_TYPE, value.type().code())
                .message(TENSOR_TYPE_SHAPE, shape);
        return new ProtoWriter()
                .string(VALUE_INFO_NAME, value.name())
                .message(VALUE_INFO_TYPE, new ProtoWriter().message(TYPE_TENSOR_TYPE, tensorType));
    }
}
