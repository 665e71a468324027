package dev.gantry.core.model;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * One input or output of a model: name, element type and shape, with -1 for a dynamic dimension.
 *
 * <p>{@code datatype} is empty when the model uses an element type that Gantry cannot carry (e.g. a
 * complex type); {@code unsupportedReason} then says why. A type Gantry can name but ONNX Runtime's
 * Java API cannot create (UINT16/32/64 inputs) keeps its datatype and carries the reason too.
 */
public record TensorSpec(String name, Optional<DataType> datatype, String onnxType, long[] shape,
                         Optional<String> unsupportedReason) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        Objects.requireNonNull(onnxType, "onnxType");
        shape = shape.clone();
        Objects.requireNonNull(unsupportedReason, "unsupportedReason");
    }

    public static TensorSpec of(String name, DataType type, long... shape) {
        return new TensorSpec(name, Optional.of(type), type.name(), shape, Optional.empty());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public boolean isSupported() {
        return unsupportedReason.isEmpty();
    }

    /** The OIP name of the element type, or the ONNX one when Gantry has no name for it. */
    public String datatypeName() {
        return datatype.map(Enum::name).orElse(onnxType);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && datatype.equals(t.datatype)
                && onnxType.equals(t.onnxType) && Arrays.equals(shape, t.shape)
                && unsupportedReason.equals(t.unsupportedReason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, onnxType, Arrays.hashCode(shape), unsupportedReason);
    }

    @Override
    public String toString() {
        return name + ":" + datatypeName() + Arrays.toString(shape);
    }
}
