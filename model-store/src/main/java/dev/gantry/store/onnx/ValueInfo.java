package dev.gantry.store.onnx;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** A graph input or output ({@code ValueInfoProto}): a name and a tensor type with its shape. */
public record ValueInfo(String name, ElemType type, List<Dim> shape) {

    public ValueInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = List.copyOf(shape);
    }

    /**
     * A tensor whose dims are given as numbers, where -1 is a symbolic dimension: {@code batch} in first
     * place, {@code <name>_dim<i>} elsewhere.
     */
    public static ValueInfo tensor(String name, ElemType type, long... dims) {
        List<Dim> shape = new ArrayList<>(dims.length);
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                shape.add(Dim.param(i == 0 ? "batch" : name + "_dim" + i));
            } else {
                shape.add(Dim.of(dims[i]));
            }
        }
        return new ValueInfo(name, type, shape);
    }
}
