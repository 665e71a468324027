package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Shapes;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Streams the JSON header of one OIP inference request; binary inputs are left for {@link BinaryTensors}. */
final class OipRequestReader {
    /*
     * Each input's element count is admitted (overflow, per-tensor and per-request limits, and whether the body
     * is even large enough to hold that many values) before any buffer is allocated for it. A JSON value needs
     * at least one byte plus a separator, so a header of n bytes holds at most (n + 1) / 2 values. Even then the
     * tensor's buffer is not sized from the shape: it grows with the values that actually arrive
     * (JsonTensorReader). A shape is refused as soon as it passes maxRank dimensions, while it streams.
     * "data" usually follows "name", "datatype" and "shape"; when it comes first its tokens are buffered
     * until the object ends and the type is known.
     */

    /**
     * One input as declared in the header: decoded from JSON, a binary blob still to be read, or a window of a
     * registered shared-memory region.
     */
    record Input(String name, DataType type, long[] shape, int count, Tensor tensor, long binarySize,
                 SharedMemoryRef sharedMemory) {
        boolean isBinary() {
            return tensor == null && sharedMemory == null;
        }
    }

    record Header(String id, List<Input> inputs, Set<String> requestedOutputs, Optional<Long> timeoutMicros,
                  Map<String, Object> parameters, OutputEncoding outputEncoding, Map<String, Integer> classification,
                  Map<String, SharedMemoryRef> sharedMemoryOutputs) {
    }

    private final JsonParser p;
    private final CodecLimits limits;
    private final long headerBytes;
    private final boolean binaryBody;
    private final TensorAdmission admission;

    private String id = "";
    private List<Input> inputs;
    /* Made when the request has an "outputs" or "parameters" member (most have neither): empty otherwise. */
    private Set<String> outputs = Set.of();
    private Map<String, Boolean> perOutputBinary = Map.of();
    private Map<String, Integer> classification = Map.of();
    private Map<String, SharedMemoryRef> sharedMemoryOutputs = Map.of();
    private Map<String, Object> parameters = Map.of();
    private Optional<Long> timeoutMicros = Optional.empty();
    private boolean binaryByDefault;

    private OipRequestReader(JsonParser p, CodecLimits limits, long headerBytes, boolean binaryBody) {
        this.p = p;
        this.limits = limits;
        this.headerBytes = headerBytes;
        this.binaryBody = binaryBody;
        this.admission = new TensorAdmission(limits);
    }

    static Header read(JsonParser p, CodecLimits limits, long headerBytes, boolean binaryBody) throws IOException {
        return new OipRequestReader(p, limits, headerBytes, binaryBody).readRoot();
    }

    private Header readRoot() throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw GantryException.invalid("request body is empty; expected a JSON object with 'inputs'");
        }
        JsonValues.expect(p, JsonToken.START_OBJECT, "request body", "a JSON object");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            switch (key) {
                case "id" -> id = JsonValues.string(p, "'id'");
                case "parameters" -> readRequestParameters();
                case "inputs" -> readInputs();
                case "outputs" -> readOutputs();
                default -> p.skipChildren();
            }
        }
        if (p.nextToken() != null) {
            throw GantryException.invalid("request body has content after the JSON object, starting with "
                    + JsonValues.describe(p));
        }
        if (inputs == null) {
            throw GantryException.invalid("request is missing 'inputs'");
        }
        if (inputs.isEmpty()) {
            throw GantryException.invalid("request 'inputs' is empty; send at least one input tensor");
        }
        return new Header(id, inputs, outputs, timeoutMicros, parameters,
                new OutputEncoding(binaryByDefault, perOutputBinary), classification, sharedMemoryOutputs);
    }

    private void readRequestParameters() throws IOException {
        JsonValues.expect(p, JsonToken.START_OBJECT, "request 'parameters'", "an object");
        if (parameters.isEmpty()) {
            parameters = new LinkedHashMap<>();
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            switch (key) {
                case "timeout" -> timeoutMicros = Optional.of(timeout());
                case "binary_data_output" -> binaryByDefault = JsonValues.bool(p, "parameter 'binary_data_output'");
                default -> parameters.put(key, JsonValues.scalar(p, "parameter '" + key + "'"));
            }
        }
    }

    /** The client's queue timeout, refused when above the server's cap rather than silently shortened. */
    private long timeout() throws IOException {
        long micros = JsonValues.nonNegativeLong(p, "parameter 'timeout' (queue timeout in microseconds)");
        if (micros > limits.maxTimeoutMicros()) {
            throw GantryException.invalid("parameter 'timeout' is " + micros + " us; this server allows at most "
                    + limits.maxTimeoutMicros() + " us (--max-request-timeout-ms " + limits.maxTimeout().toMillis()
                    + ")");
        }
        return micros;
    }

    private void readOutputs() throws IOException {
        JsonValues.expect(p, JsonToken.START_ARRAY, "'outputs'", "an array");
        if (outputs.isEmpty()) {
            outputs = new LinkedHashSet<>();
            perOutputBinary = new HashMap<>();
            classification = new LinkedHashMap<>();
            sharedMemoryOutputs = new LinkedHashMap<>();
        }
        int position = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            String field = "outputs[" + position + "]";
            JsonValues.expect(p, JsonToken.START_OBJECT, field, "an object");
            String name = null;
            OutputParameters parameters = OutputParameters.NONE;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                switch (key) {
                    case "name" -> name = JsonValues.string(p, field + ".name");
                    case "parameters" -> parameters = readOutputParameters(field);
                    default -> p.skipChildren();
                }
            }
            Boolean binary = parameters.binary();
            if (name == null) {
                throw GantryException.invalid(field + " is missing 'name'");
            }
            TensorAdmission.requestOutput(outputs, name);
            if (binary != null) {
                perOutputBinary.put(name, binary);
            }
            if (parameters.classCount() != null) {
                classification.put(name, parameters.classCount());
            }
            if (parameters.sharedMemory().isPresent()) {
                sharedMemoryOutputs.put(name, parameters.sharedMemory().forTensor("output '" + name + "'"));
            }
            position++;
        }
    }

    /** An output's parameters: binary_data, and the classification extension's class count. */
    private record OutputParameters(Boolean binary, Integer classCount, SharedMemoryRef.Builder sharedMemory) {
        static final OutputParameters NONE = new OutputParameters(null, null, new SharedMemoryRef.Builder());
    }

    private OutputParameters readOutputParameters(String field) throws IOException {
        JsonValues.expect(p, JsonToken.START_OBJECT, field + ".parameters", "an object");
        Boolean binary = null;
        Integer classCount = null;
        SharedMemoryRef.Builder shm = new SharedMemoryRef.Builder();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            if (shm.read(p, key, field)) {
                continue;
            }
            switch (key) {
                case "binary_data" -> binary = JsonValues.bool(p, field + " parameter 'binary_data'");
                // Triton's name, and the older KServe/Triton one
                case "classification", "class_count" -> classCount = classCount(field + " parameter '" + key + "'");
                default -> JsonValues.scalar(p, field + " parameter '" + key + "'");
            }
        }
        return new OutputParameters(binary, classCount, shm);
    }

    private int classCount(String field) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || p.getLongValue() < 1 || p.getLongValue() > Integer.MAX_VALUE) {
            throw GantryException.invalid(field + " must be a positive integer (the number of classes to return), got "
                    + JsonValues.describe(p));
        }
        return p.getIntValue();
    }

    private void readInputs() throws IOException {
        JsonValues.expect(p, JsonToken.START_ARRAY, "'inputs'", "an array of input tensors");
        inputs = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            Input input = readInput(inputs.size());
            admission.name(input.name());
            inputs.add(input);
        }
    }

    private Input readInput(int position) throws IOException {
        String field = "inputs[" + position + "]";
        JsonValues.expect(p, JsonToken.START_OBJECT, field, "an object");
        String name = null;
        DataType type = null;
        long[] shape = null;
        Long binarySize = null;
        SharedMemoryRef.Builder shm = new SharedMemoryRef.Builder();
        boolean hasData = false;
        Tensor tensor = null;
        TokenBuffer deferred = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            String label = name == null ? field : "input '" + name + "'";
            switch (key) {
                case "name" -> name = JsonValues.string(p, field + ".name");
                case "datatype" -> type = datatype(label);
                case "shape" -> shape = shape(label);
                case "parameters" -> binarySize = readInputParameters(label, shm);
                case "data" -> {
                    hasData = true;
                    if (name != null && type != null && shape != null) {
                        tensor = readData(p, name, type, shape);
                    } else {
                        deferred = new TokenBuffer(p);
                        deferred.copyCurrentStructure(p);
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (name == null) {
            throw GantryException.invalid(field + " is missing 'name'");
        }
        if (type == null) {
            throw GantryException.invalid("input '" + name + "' is missing 'datatype'");
        }
        if (shape == null) {
            throw GantryException.invalid("input '" + name + "' is missing 'shape'");
        }
        if (hasData && binarySize != null) {
            throw GantryException.invalid("input '" + name
                    + "' has both 'data' and parameters.binary_data_size; send exactly one");
        }
        if (shm.isPresent() && (hasData || binarySize != null)) {
            throw GantryException.invalid("input '" + name + "' has both parameters.shared_memory_region and "
                    + (hasData ? "'data'" : "parameters.binary_data_size") + "; send exactly one");
        }
        if (!hasData && binarySize == null && !shm.isPresent()) {
            throw GantryException.invalid("input '" + name
                    + "' has neither 'data' nor parameters.binary_data_size (nor shared_memory_region)");
        }
        if (deferred != null) {
            try (JsonParser buffered = deferred.asParser()) {
                buffered.nextToken();
                tensor = readData(buffered, name, type, shape);
            }
        }
        if (tensor != null) {
            return new Input(name, type, shape, (int) tensor.elementCount(), tensor, -1, null);
        }
        if (shm.isPresent()) {
            return sharedMemoryInput(name, type, shape, shm.forTensor("input '" + name + "'"));
        }
        return binaryInput(name, type, shape, binarySize);
    }

    private Tensor readData(JsonParser source, String name, DataType type, long[] shape) throws IOException {
        int count = admission.admit(name, type, shape);
        if (count > (headerBytes + 1) / 2) {
            throw GantryException.invalid("input '" + name + "' shape " + Shapes.describe(shape) + " declares "
                    + count + " elements, more than a " + headerBytes + "-byte JSON body can hold");
        }
        return JsonTensorReader.read(source, name, type, shape, count, /* fastNumbers= */ source == p);
    }

    private Input binaryInput(String name, DataType type, long[] shape, long binarySize) {
        if (!binaryBody) {
            throw GantryException.invalid("input '" + name + "' sets binary_data_size but the request has no "
                    + "Inference-Header-Content-Length header");
        }
        int count = admission.admit(name, type, shape);
        TensorAdmission.checkRawSize(name, type, shape, count, binarySize, "binary_data_size");
        return new Input(name, type, shape, count, null, binarySize, null);
    }

    private Input sharedMemoryInput(String name, DataType type, long[] shape, SharedMemoryRef ref) {
        int count = admission.admit(name, type, shape);
        TensorAdmission.checkRawSize(name, type, shape, count, ref.byteSize(), "shared_memory_byte_size");
        return new Input(name, type, shape, count, null, -1, ref);
    }

    private DataType datatype(String label) throws IOException {
        return TensorAdmission.datatype(label, JsonValues.string(p, label + " datatype"));
    }

    private long[] shape(String label) throws IOException {
        JsonValues.expect(p, JsonToken.START_ARRAY, label + " shape", "an array of non-negative integers");
        long[] dims = new long[Math.min(8, limits.maxRank())];
        int rank = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
                    || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw GantryException.invalid(label + " shape must be an array of non-negative integers, got "
                        + JsonValues.describe(p) + " at position " + rank);
            }
            if (rank == limits.maxRank()) {
                throw GantryException.invalid(label + " shape has more than " + limits.maxRank()
                        + " dimensions; the limit is " + limits.maxRank());
            }
            if (rank == dims.length) {
                dims = Arrays.copyOf(dims, Math.min(rank * 2, limits.maxRank()));
            }
            dims[rank++] = p.getLongValue();
        }
        return Arrays.copyOf(dims, rank);
    }

    private Long readInputParameters(String label, SharedMemoryRef.Builder shm) throws IOException {
        JsonValues.expect(p, JsonToken.START_OBJECT, label + " parameters", "an object");
        Long binarySize = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            if (shm.read(p, key, label)) {
                continue;
            }
            if (key.equals("binary_data_size")) {
                binarySize = JsonValues.nonNegativeLong(p, label + " parameter 'binary_data_size'");
            } else {
                JsonValues.scalar(p, label + " parameter '" + key + "'");
            }
        }
        return binarySize;
    }
}
