package dev.gantry.store.onnx;

import java.util.List;
import java.util.Objects;

/** One operator application in a graph ({@code NodeProto}) in the default ONNX domain. */
public record Node(String name, String opType, List<String> inputs, List<String> outputs, List<Attribute> attributes) {

    public Node {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(opType, "opType");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attributes = List.copyOf(attributes);
    }
}
