package dev.gantry.http.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.InferParameter;
import dev.gantry.http.grpc.proto.InferTensorContents;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.inference.BinaryTensors;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.inference.TensorAdmission;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decodes a gRPC {@code ModelInferRequest} into the core's request and encodes the core's response, with typed
 * contents or raw contents. The checks on declared tensors are {@link TensorAdmission}'s, the same as over HTTP;
 * the model signature is checked by the core. Stateless and thread-safe.
 */
public final class GrpcTensors {
    /*
     * Raw or typed. raw_input_contents, when present, carries every input (one entry per input, in order) and
     * the inputs carry no contents; otherwise every input carries typed contents in its datatype's field.
     * Outputs come back in the form the request used (raw for raw, typed for typed: Triton's own client reads
     * raw_output_contents, KServe's reads either), unless the request's parameter binary_data_output says
     * otherwise. FP16 has no typed field, so a response with an FP16 output is raw whatever was asked.
     *
     * Sizes. A typed input's element list is compared with its admitted shape before anything is allocated for
     * it, and a raw input's byte count likewise: buffers are sized from what arrived.
     */
    public static final String ROUTING_KEY = "routing_key";
    public static final String TIMEOUT = "timeout";
    public static final String BINARY_OUTPUT = "binary_data_output";

    /** A decoded request, how its outputs are to be sent, and its routing key parameter. */
    public record Decoded(InferenceRequest request, boolean rawOutputs, Optional<String> routingKey) {
    }

    private final CodecLimits limits;

    public GrpcTensors(CodecLimits limits) {
        this.limits = limits;
    }

    /** @throws GantryException INVALID_ARG naming what is wrong */
    public Decoded decode(ModelInferRequest r) {
        if (r.getInputsCount() == 0) {
            throw GantryException.invalid("request 'inputs' is empty; send at least one input tensor");
        }
        boolean raw = r.getRawInputContentsCount() > 0;
        if (raw && r.getRawInputContentsCount() != r.getInputsCount()) {
            throw GantryException.invalid("raw_input_contents has " + r.getRawInputContentsCount()
                    + " entries but the request has " + r.getInputsCount() + " inputs; send one per input, in order");
        }
        TensorAdmission admission = new TensorAdmission(limits);
        List<Tensor> inputs = new ArrayList<>(r.getInputsCount());
        for (int i = 0; i < r.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor in = r.getInputs(i);
            String name = in.getName();
            if (name.isEmpty()) {
                throw GantryException.invalid("inputs[" + i + "] is missing 'name'");
            }
            admission.name(name);
            DataType type = TensorAdmission.datatype("input '" + name + "'", in.getDatatype());
            long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
            int count = admission.admit(name, type, shape);
            if (raw) {
                if (in.hasContents() && !in.getContents().equals(InferTensorContents.getDefaultInstance())) {
                    throw GantryException.invalid("input '" + name + "' has contents but the request also has "
                            + "raw_input_contents; send each input one way");
                }
                inputs.add(fromRaw(name, type, shape, count, r.getRawInputContents(i)));
            } else {
                inputs.add(fromTyped(name, type, shape, count, in.getContents()));
            }
        }
        Set<String> outputs = new LinkedHashSet<>();
        for (ModelInferRequest.InferRequestedOutputTensor o : r.getOutputsList()) {
            if (o.getName().isEmpty()) {
                throw GantryException.invalid("a requested output is missing 'name'");
            }
            TensorAdmission.requestOutput(outputs, o.getName());
        }
        Optional<Long> timeout = Optional.empty();
        Optional<String> routingKey = Optional.empty();
        boolean rawOutputs = raw;
        Map<String, Object> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, InferParameter> e : r.getParametersMap().entrySet()) {
            InferParameter p = e.getValue();
            switch (e.getKey()) {
                case TIMEOUT -> {
                    if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
                            && p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.UINT64_PARAM
                            || p.getInt64Param() < 0 || p.getUint64Param() < 0) {
                        throw GantryException.invalid("parameter 'timeout' (queue timeout in microseconds) must be"
                                + " a non-negative integer");
                    }
                    timeout = Optional.of(Math.max(p.getInt64Param(), p.getUint64Param()));
                }
                case BINARY_OUTPUT -> {
                    if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.BOOL_PARAM) {
                        throw GantryException.invalid("parameter '" + BINARY_OUTPUT + "' must be a bool");
                    }
                    rawOutputs = p.getBoolParam();
                }
                default -> {
                    Object value = value(p);
                    if (value == null) {
                        throw GantryException.invalid("parameter '" + e.getKey() + "' has no value");
                    }
                    parameters.put(e.getKey(), value);
                    if (e.getKey().equals(ROUTING_KEY)) {
                        routingKey = Optional.of(value.toString());
                    }
                }
            }
        }
        InferenceRequest request = new InferenceRequest(r.getId(), inputs, outputs, timeout, parameters);
        return new Decoded(request, rawOutputs, routingKey);
    }

    private static Object value(InferParameter p) {
        return switch (p.getParameterChoiceCase()) {
            case BOOL_PARAM -> p.getBoolParam();
            case INT64_PARAM -> p.getInt64Param();
            case STRING_PARAM -> p.getStringParam();
            case DOUBLE_PARAM -> p.getDoubleParam();
            case UINT64_PARAM -> Long.toUnsignedString(p.getUint64Param());
            case PARAMETERCHOICE_NOT_SET -> null;
        };
    }

    private static Tensor fromRaw(String name, DataType type, long[] shape, int count, ByteString bytes) {
        TensorAdmission.checkRawSize(name, type, shape, count, bytes.size(), "raw_input_contents size");
        if (type.isFixedSize()) {
            return Tensor.of(name, type, shape, bytes.asReadOnlyByteBuffer());
        }
        return BinaryTensors.read(name, type, shape, count, bytes.toByteArray(), 0, bytes.size());
    }

    /** The typed-contents field each datatype uses, as the protocol assigns them. */
    private static String field(DataType type) {
        return switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case BYTES -> "bytes_contents";
            case FP16 -> null;
        };
    }

    private static Tensor fromTyped(String name, DataType type, long[] shape, int count, InferTensorContents c) {
        String field = field(type);
        Map<String, Integer> used = new LinkedHashMap<>();
        used.put("bool_contents", c.getBoolContentsCount());
        used.put("int_contents", c.getIntContentsCount());
        used.put("int64_contents", c.getInt64ContentsCount());
        used.put("uint_contents", c.getUintContentsCount());
        used.put("uint64_contents", c.getUint64ContentsCount());
        used.put("fp32_contents", c.getFp32ContentsCount());
        used.put("fp64_contents", c.getFp64ContentsCount());
        used.put("bytes_contents", c.getBytesContentsCount());
        for (Map.Entry<String, Integer> e : used.entrySet()) {
            if (e.getValue() > 0 && !e.getKey().equals(field)) {
                throw GantryException.invalid("input '" + name + "' is " + type + (field == null
                        ? ", which has no typed contents field; send it in raw_input_contents"
                        : ": its elements go in " + field) + ", got " + e.getKey());
            }
        }
        if (field == null) {
            if (count == 0) {
                return Tensor.of(name, type, shape, ByteBuffer.allocate(0));
            }
            throw GantryException.invalid("input '" + name + "' is " + type
                    + ", which has no typed contents field; send it in raw_input_contents");
        }
        int got = used.get(field);
        if (got != count) {
            throw TensorAdmission.countMismatch(name, got, shape, count);
        }
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>(count);
            c.getBytesContentsList().forEach(b -> elements.add(b.toByteArray()));
            return Tensor.ofStrings(name, shape, elements);
        }
        ByteBuffer b = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            switch (type) {
                case BOOL -> b.put((byte) (c.getBoolContents(i) ? 1 : 0));
                case INT8 -> b.put((byte) signed(name, i, c.getIntContents(i), type, Byte.MIN_VALUE, Byte.MAX_VALUE));
                case INT16 -> b.putShort((short) signed(name, i, c.getIntContents(i), type, Short.MIN_VALUE,
                        Short.MAX_VALUE));
                case INT32 -> b.putInt(c.getIntContents(i));
                case INT64 -> b.putLong(c.getInt64Contents(i));
                case UINT8 -> b.put((byte) unsigned(name, i, c.getUintContents(i), type, 0xFF));
                case UINT16 -> b.putShort((short) unsigned(name, i, c.getUintContents(i), type, 0xFFFF));
                case UINT32 -> b.putInt(c.getUintContents(i));
                case UINT64 -> b.putLong(c.getUint64Contents(i));
                case FP32 -> b.putFloat(c.getFp32Contents(i));
                case FP64 -> b.putDouble(c.getFp64Contents(i));
                default -> throw new IllegalStateException("no typed contents for " + type);
            }
        }
        return Tensor.of(name, type, shape, b.flip());
    }

    private static long signed(String name, int index, int v, DataType type, long min, long max) {
        if (v < min || v > max) {
            throw TensorAdmission.outOfRange(name, index, Integer.toString(v), type, min, max);
        }
        return v;
    }

    private static long unsigned(String name, int index, int v, DataType type, long max) {
        long u = Integer.toUnsignedLong(v);
        if (u > max) {
            throw TensorAdmission.outOfRange(name, index, Long.toString(u), type, 0, max);
        }
        return u;
    }

    /** Encodes a response: raw_output_contents when {@code raw} (or when an output has no typed field). */
    public ModelInferResponse encode(InferenceResponse response, boolean raw) {
        ModelInferResponse.Builder out = ModelInferResponse.newBuilder()
                .setModelName(response.model().name())
                .setModelVersion(Long.toString(response.model().version()))
                .setId(response.id());
        boolean asRaw = raw || response.outputs().stream().anyMatch(t -> field(t.datatype()) == null);
        for (Tensor t : response.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder o = out.addOutputsBuilder()
                    .setName(t.name())
                    .setDatatype(t.datatype().name());
            for (long d : t.shape()) {
                o.addShape(d);
            }
            if (asRaw) {
                out.addRawOutputContents(raw(t));
            } else {
                o.setContents(typed(t));
            }
        }
        return out.build();
    }

    private static ByteString raw(Tensor t) {
        if (t.datatype().isFixedSize()) {
            // the tensor is immutable: its bytes are wrapped, not copied
            return UnsafeByteOperations.unsafeWrap(t.data());
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(BinaryTensors.encodedSize(t)));
        BinaryTensors.write(t, b);
        return UnsafeByteOperations.unsafeWrap(b.array());
    }

    private static InferTensorContents typed(Tensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        if (t.datatype() == DataType.BYTES) {
            t.strings().forEach(s -> c.addBytesContents(ByteString.copyFrom(s)));
            return c.build();
        }
        ByteBuffer b = t.data();
        while (b.hasRemaining()) {
            switch (t.datatype()) {
                case BOOL -> c.addBoolContents(b.get() != 0);
                case INT8 -> c.addIntContents(b.get());
                case INT16 -> c.addIntContents(b.getShort());
                case INT32 -> c.addIntContents(b.getInt());
                case INT64 -> c.addInt64Contents(b.getLong());
                case UINT8 -> c.addUintContents(b.get() & 0xFF);
                case UINT16 -> c.addUintContents(b.getShort() & 0xFFFF);
                case UINT32 -> c.addUintContents(b.getInt());
                case UINT64 -> c.addUint64Contents(b.getLong());
                case FP32 -> c.addFp32Contents(b.getFloat());
                case FP64 -> c.addFp64Contents(b.getDouble());
                default -> throw new IllegalStateException("no typed contents for " + t.datatype());
            }
        }
        return c.build();
    }
}
