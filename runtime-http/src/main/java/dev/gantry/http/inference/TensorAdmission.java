package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The checks every transport makes on a request's declared tensors before it allocates anything for them: the
 * datatype name, element counts against the limits, duplicate names, and the size of raw bytes against the
 * shape. The OIP JSON reader and the gRPC decoder both use it, so a bad request gets the same message on both.
 * One instance per request (it adds up the request's elements); not thread-safe.
 */
public final class TensorAdmission {
    private static final String DATATYPES = Arrays.toString(DataType.values());

    private final CodecLimits limits;
    private final Set<String> inputNames = new HashSet<>();
    private long requestElements;

    public TensorAdmission(CodecLimits limits) {
        this.limits = limits;
    }

    /** Parses a datatype name; {@code label} names the tensor ("input 'x'"). */
    public static DataType datatype(String label, String text) {
        return DataType.fromName(text).orElseThrow(() -> GantryException.invalid(label + " has unknown datatype '"
                + JsonValues.abbreviate(text) + "'; expected one of " + DATATYPES));
    }

    /** Records an input's name; a second input of the same name is refused. */
    public void name(String input) {
        if (!inputNames.add(input)) {
            throw GantryException.invalid("input '" + input + "' appears more than once");
        }
    }

    /** Adds a requested output's name to {@code outputs}; asking for one twice is refused. */
    public static void requestOutput(Set<String> outputs, String name) {
        if (!outputs.add(name)) {
            throw GantryException.invalid("output '" + name + "' is requested more than once");
        }
    }

    /** Checks the element count of a declared shape against the limits; returns it. */
    public int admit(String name, DataType type, long[] shape) {
        long count;
        try {
            count = Tensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw GantryException.invalid("input '" + name + "' shape " + dev.gantry.core.inference.Shapes.describe(shape)
                    + " has more elements than fit in a 64-bit count");
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid("input '" + name + "' shape " + dev.gantry.core.inference.Shapes.describe(shape)
                    + " must hold non-negative integers");
        }
        if (count > limits.maxElementsPerTensor()) {
            throw GantryException.invalid("input '" + name + "' shape " + dev.gantry.core.inference.Shapes.describe(shape) + " has " + count
                    + " elements; the limit is " + limits.maxElementsPerTensor() + " per tensor");
        }
        requestElements += count;
        if (requestElements > limits.maxElementsPerRequest()) {
            throw GantryException.invalid("request inputs have " + requestElements
                    + " elements in total (through input '" + name + "'); the limit is "
                    + limits.maxElementsPerRequest() + " per request");
        }
        long bytes = type.isFixedSize() ? count * type.byteSize() : count;
        if (bytes > Integer.MAX_VALUE - 16) {
            throw GantryException.invalid("input '" + name + "' " + type + dev.gantry.core.inference.Shapes.describe(shape)
                    + " needs " + bytes + " bytes, more than one tensor can hold");
        }
        return (int) count;
    }

    /**
     * Checks the size of an input's raw bytes against its admitted shape: exact for fixed-size types, at least
     * the length prefixes for BYTES. {@code what} names where the size came from ("binary_data_size").
     */
    public static void checkRawSize(String name, DataType type, long[] shape, int count, long size, String what) {
        if (type.isFixedSize()) {
            long expected = (long) count * type.byteSize();
            if (size != expected) {
                throw GantryException.invalid("input '" + name + "' " + what + " is " + size + " but "
                        + type + dev.gantry.core.inference.Shapes.describe(shape) + " needs exactly " + expected + " bytes");
            }
        } else if (size < 4L * count) {
            throw GantryException.invalid("input '" + name + "' " + what + " is " + size + " but "
                    + count + " BYTES elements need at least " + 4L * count + " bytes of length prefixes");
        }
    }

    /** The message for a tensor whose element list does not match its shape. */
    public static GantryException countMismatch(String name, int got, long[] shape, int count) {
        return GantryException.invalid("input '" + name + "' data has " + got + " elements but shape "
                + dev.gantry.core.inference.Shapes.describe(shape) + " needs " + count);
    }

    /** The message for an element outside its datatype's range. */
    public static GantryException outOfRange(String name, int index, String value, DataType type, long min,
                                             long max) {
        return GantryException.invalid("input '" + name + "' element " + index + ": " + value
                + " is out of range for " + type + " (" + min + ".." + max + ")");
    }
}
