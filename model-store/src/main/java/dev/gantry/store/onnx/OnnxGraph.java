package dev.gantry.store.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/** An ONNX computation graph ({@code GraphProto}): inputs, constant initializers, nodes in order, outputs. */
public final class OnnxGraph {

    private final String name;
    private final List<ValueInfo> inputs;
    private final List<Initializer> initializers;
    private final List<Node> nodes;
    private final List<ValueInfo> outputs;

    private OnnxGraph(Builder builder) {
        this.name = builder.name;
        this.inputs = List.copyOf(builder.inputs);
        this.initializers = List.copyOf(builder.initializers);
        this.nodes = List.copyOf(builder.nodes);
        this.outputs = List.copyOf(builder.outputs);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<Initializer> initializers() {
        return initializers;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    /** Serializes this graph as a model with the default IR version, opset and producer. */
    public byte[] toBytes() {
        return OnnxModel.of(this).toBytes();
    }

    /** Collects a graph in order and checks, when built, that every value is defined before it is used. */
    public static final class Builder {

        private final String name;
        private final List<ValueInfo> inputs = new ArrayList<>();
        private final List<Initializer> initializers = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final List<ValueInfo> outputs = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Adds an input; a dim of -1 is symbolic (see {@link ValueInfo#tensor}). */
        public Builder input(String name, ElemType type, long... dims) {
            return input(ValueInfo.tensor(name, type, dims));
        }

        public Builder input(ValueInfo input) {
            inputs.add(Objects.requireNonNull(input, "input"));
            return this;
        }

        public Builder initializer(Initializer initializer) {
            initializers.add(Objects.requireNonNull(initializer, "initializer"));
            return this;
        }

        /** Adds a node named {@code <opType>_<index>} with one output. */
        public Builder node(String opType, List<String> inputs, String output, Attribute... attributes) {
            String nodeName = opType.toLowerCase(Locale.ROOT) + "_" + nodes.size();
            return node(new Node(nodeName, opType, inputs, List.of(output), Arrays.asList(attributes)));
        }

        public Builder node(Node node) {
            nodes.add(Objects.requireNonNull(node, "node"));
            return this;
        }

        /** Adds an output; a dim of -1 is symbolic (see {@link ValueInfo#tensor}). */
        public Builder output(String name, ElemType type, long... dims) {
            return output(ValueInfo.tensor(name, type, dims));
        }

        public Builder output(ValueInfo output) {
            outputs.add(Objects.requireNonNull(output, "output"));
            return this;
        }

        public OnnxGraph build() {
            if (outputs.isEmpty()) {
                throw new IllegalStateException("graph '" + name + "' has no outputs");
            }
            Set<String> defined = new HashSet<>();
            inputs.forEach(i -> define(defined, i.name()));
            initializers.forEach(i -> define(defined, i.name()));
            for (Node node : nodes) {
                for (String input : node.inputs()) {
                    if (!input.isEmpty() && !defined.contains(input)) {
                        throw new IllegalStateException("node '" + node.name() + "' reads '" + input
                                + "', which is not a graph input, initializer or earlier node output");
                    }
                }
                node.outputs().forEach(o -> define(defined, o));
            }
            for (ValueInfo output : outputs) {
                if (!defined.contains(output.name())) {
                    throw new IllegalStateException("graph output '" + output.name() + "' is never produced");
                }
            }
            return new OnnxGraph(this);
        }

        private void define(Set<String> defined, String value) {
            if (!defined.add(value)) {
                throw new IllegalStateException("value '" + value + "' is defined twice in graph '" + name + "'");
            }
        }
    }
}
