package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Decodes Open Inference Protocol v2 REST inference requests and encodes their responses, in JSON and with the
 * binary tensor data extension ({@code Inference-Header-Content-Length}). Thread-safe.
 */
public final class OipCodec {
    /** The HTTP header that carries the length of the JSON part of a body using the binary extension. */
    public static final String HEADER_LENGTH_HEADER = "Inference-Header-Content-Length";

    private final CodecLimits limits;
    private final JsonFactory json;
    private final boolean plainReader;

    public OipCodec(CodecLimits limits) {
        this(limits, /* plainReader= */ true);
    }

    /** {@code plainReader} false reads every request with the full reader; tests compare the two. */
    OipCodec(CodecLimits limits, boolean plainReader) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.plainReader = plainReader;
        this.json = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxNestingDepth())
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // Parsing and printing floats was the largest single cost of a small JSON request (JFR: ~10%
                // of the event loop in JDK FloatingDecimal); Jackson's bundled fast parser/writer give the same
                // values, correctly rounded.
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .enable(com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
                .recyclerPool(LoopRecyclers.POOL)
                .build();
    }

    /**
     * Parses the value of an {@code Inference-Header-Content-Length} header: empty when absent (null).
     *
     * @throws GantryException INVALID_ARG when the value is not a non-negative integer
     */
    public static OptionalLong headerLength(String headerValue) {
        if (headerValue == null) {
            return OptionalLong.empty();
        }
        try {
            long n = Long.parseLong(headerValue.trim());
            if (n >= 0) {
                return OptionalLong.of(n);
            }
        } catch (NumberFormatException e) {
            // reported below with the value the caller sent
        }
        throw GantryException.invalid(HEADER_LENGTH_HEADER + " must be a non-negative integer, got '"
                + JsonValues.abbreviate(headerValue) + "'");
    }

    /**
     * Decodes one inference request body.
     *
     * @param headerLength the {@code Inference-Header-Content-Length} value when the body uses the binary
     *     extension, else empty
     * @throws GantryException INVALID_ARG, naming what is wrong, for any malformed body; nothing else
     */
    public DecodedRequest decodeRequest(Buffer body, OptionalLong headerLength) {
        return decodeRequest(body, headerLength, SharedMemoryRef.Access.NONE);
    }

    /**
     * As {@link #decodeRequest(Buffer, OptionalLong)}, reading inputs that name a shared-memory region through
     * {@code sharedMemory} (no copy for fixed-size types: the tensor views the region).
     */
    public DecodedRequest decodeRequest(Buffer body, OptionalLong headerLength, SharedMemoryRef.Access sharedMemory) {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headerLength, "headerLength");
        try {
            return decode(BodyBytes.of(body), headerLength, sharedMemory);
        } catch (GantryException e) {
            throw e;
        } catch (StreamConstraintsException e) {
            String detail = e.getOriginalMessage();
            throw GantryException.invalid(detail != null && detail.contains("nesting depth")
                    ? "request JSON nests deeper than " + limits.maxNestingDepth() + " levels"
                    : "request JSON exceeds a parser limit: " + detail);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw GantryException.invalid("request JSON is malformed"
                    + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                    + ": " + e.getOriginalMessage());
        } catch (IOException | RuntimeException e) {
            throw GantryException.invalid("request body could not be decoded: " + e.getMessage());
        }
    }

    private DecodedRequest decode(BodyBytes bytes, OptionalLong headerLength, SharedMemoryRef.Access sharedMemory)
            throws IOException {
        byte[] body = bytes.array();
        int base = bytes.offset();
        int length = bytes.length();
        int jsonLength = length;
        if (headerLength.isPresent()) {
            long declared = headerLength.getAsLong();
            if (declared < 0) {
                throw GantryException.invalid(HEADER_LENGTH_HEADER + " must be non-negative, got " + declared);
            }
            if (declared > length) {
                throw GantryException.invalid(HEADER_LENGTH_HEADER + " is " + declared + " but the body has "
                        + length + " bytes");
            }
            jsonLength = (int) declared;
        }
        // The plain reader accepts only ASCII, so what it accepts needs no UTF-8 check.
        OipRequestReader.Header header = plainReader && headerLength.isEmpty()
                ? PlainRequestReader.read(body, base, jsonLength, limits)
                : null;
        if (header == null) {
            int invalid = Utf8Check.firstInvalid(body, base, base + jsonLength);
            if (invalid >= 0) {
                throw GantryException.invalid("request JSON is not valid UTF-8: ill-formed byte sequence at offset "
                        + (invalid - base));
            }
            try (JsonParser parser = json.createParser(body, base, jsonLength)) {
                header = OipRequestReader.read(parser, limits, jsonLength, headerLength.isPresent());
            }
        }
        List<Tensor> inputs = readBinaryInputs(header.inputs(), body, base, length, jsonLength, sharedMemory);
        InferenceRequest request = new InferenceRequest(header.id(), inputs, header.requestedOutputs(),
                header.timeoutMicros(), header.parameters());
        return new DecodedRequest(request, header.outputEncoding(), header.classification(),
                header.sharedMemoryOutputs());
    }

    private static List<Tensor> readBinaryInputs(List<OipRequestReader.Input> declared, byte[] body, int base,
                                                 int length, int offset, SharedMemoryRef.Access sharedMemory) {
        long carried = length - offset;
        long total = 0;
        for (OipRequestReader.Input input : declared) {
            if (input.isBinary()) {
                total += input.binarySize();
                if (total > carried) {
                    break;
                }
            }
        }
        if (total != carried) {
            throw GantryException.invalid("binary_data_size of the inputs adds up to "
                    + (total > carried ? "more than " + carried : Long.toString(total))
                    + " bytes but the body carries " + carried + " bytes after its " + offset + "-byte JSON header");
        }
        if (declared.size() == 1 && !declared.get(0).isBinary() && declared.get(0).sharedMemory() == null) {
            // the common request, one JSON input: an immutable list the request keeps without copying it
            return List.of(declared.get(0).tensor());
        }
        List<Tensor> tensors = new ArrayList<>(declared.size());
        int position = base + offset;
        for (OipRequestReader.Input input : declared) {
            if (input.isBinary()) {
                int size = (int) input.binarySize();
                tensors.add(BinaryTensors.read(input.name(), input.type(), input.shape(), input.count(), body,
                        position, size));
                position += size;
            } else if (input.sharedMemory() != null) {
                tensors.add(fromSharedMemory(input, sharedMemory));
            } else {
                tensors.add(input.tensor());
            }
        }
        return tensors;
    }

    private static Tensor fromSharedMemory(OipRequestReader.Input input, SharedMemoryRef.Access sharedMemory) {
        SharedMemoryRef ref = input.sharedMemory();
        ByteBuffer view = sharedMemory.view(ref.region(), ref.offset(), ref.byteSize());
        if (input.type().isFixedSize()) {
            return Tensor.of(input.name(), input.type(), input.shape(), view);
        }
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return BinaryTensors.read(input.name(), input.type(), input.shape(), input.count(), bytes, 0, bytes.length);
    }

    /**
     * The data size from which a JSON output is written by JsonTensorWriter.writeNumbers straight into the body;
     * below it (an MLP's 8 scores) flushing the generator and a scratch array cost more than they save.
     */
    private static final long DIRECT_ARRAY_BYTES = 256;

    /*
     * The response's field names and datatype texts, encoded once: writeStringField(String, ...) copied every
     * name character by character on each response (String.charAt under UTF8JsonGenerator._writeStringSegment:
     * 2% of the event loop's samples under MLP JSON load, 12-01).
     */
    private static final SerializedString F_MODEL_NAME = new SerializedString("model_name");
    private static final SerializedString F_MODEL_VERSION = new SerializedString("model_version");
    private static final SerializedString F_ID = new SerializedString("id");
    private static final SerializedString F_OUTPUTS = new SerializedString("outputs");
    private static final SerializedString F_NAME = new SerializedString("name");
    private static final SerializedString F_DATATYPE = new SerializedString("datatype");
    private static final SerializedString F_SHAPE = new SerializedString("shape");
    private static final SerializedString F_DATA = new SerializedString("data");
    private static final SerializedString F_SHARED_MEMORY_REGION = new SerializedString("shared_memory_region");
    private static final SerializedString[] DATATYPE_TEXT = java.util.Arrays.stream(DataType.values())
            .map(d -> new SerializedString(d.name())).toArray(SerializedString[]::new);

    private static void writeString(JsonGenerator g, SerializedString field, String value) throws IOException {
        g.writeFieldName(field);
        g.writeString(value);
    }

    /** Opens an output's object and writes its name, datatype and shape. */
    private static void writeTensorHead(JsonGenerator g, Tensor t) throws IOException {
        g.writeStartObject();
        writeString(g, F_NAME, t.name());
        g.writeFieldName(F_DATATYPE);
        g.writeString(DATATYPE_TEXT[t.datatype().ordinal()]);
        g.writeFieldName(F_SHAPE);
        g.writeStartArray();
        for (long d : t.shape()) {
            g.writeNumber(d);
        }
        g.writeEndArray();
    }

    /** The most a response header is pre-sized to; a larger one grows as it is written. */
    private static final int MAX_HEADER_CAPACITY = 32 << 20;

    /** Room for a response's JSON header: the most text its JSON data arrays can take, plus names and shapes. */
    private static int headerCapacity(List<Tensor> outputs, OutputEncoding encoding,
                                      java.util.Map<String, SharedMemoryRef> sharedMemoryOutputs) {
        long capacity = 256;
        for (Tensor t : outputs) {
            capacity += 128 + 3L * t.name().length();
            if (t.datatype().isFixedSize() && !encoding.isBinary(t.name())
                    && !sharedMemoryOutputs.containsKey(t.name())) {
                capacity += JsonTensorWriter.maxTextLength(t);
            }
        }
        return (int) Math.min(capacity, MAX_HEADER_CAPACITY);
    }

    /** Encodes a response, sending as raw bytes the outputs {@code encoding} asks for and any non-UTF-8 BYTES. */
    public EncodedResponse encodeResponse(InferenceResponse response, OutputEncoding encoding) {
        return encodeResponse(response, encoding, java.util.Map.of(), SharedMemoryRef.Access.NONE);
    }

    /**
     * As {@link #encodeResponse(InferenceResponse, OutputEncoding)}, writing the outputs named in
     * {@code sharedMemoryOutputs} into their regions (in the binary layout) instead of the body.
     *
     * @throws GantryException INVALID_ARG when an output does not fit its region window
     */
    public EncodedResponse encodeResponse(InferenceResponse response, OutputEncoding encoding,
                                          java.util.Map<String, SharedMemoryRef> sharedMemoryOutputs,
                                          SharedMemoryRef.Access sharedMemory) {
        return encodeResponse(response, encoding, sharedMemoryOutputs, sharedMemory, ResponseBodies.HEAP);
    }

    /**
     * As {@link #encodeResponse(InferenceResponse, OutputEncoding, java.util.Map, SharedMemoryRef.Access)}, the
     * body from {@code bodies}: with {@link ResponseBodies#POOLED} the caller owns the result's
     * {@link EncodedResponse#release()}, and must call it once the body is sent or dropped.
     */
    EncodedResponse encodeResponse(InferenceResponse response, OutputEncoding encoding,
                                   java.util.Map<String, SharedMemoryRef> sharedMemoryOutputs,
                                   SharedMemoryRef.Access sharedMemory, ResponseBodies bodies) {
        Objects.requireNonNull(response, "response");
        Objects.requireNonNull(encoding, "encoding");
        for (Tensor t : response.outputs()) {
            SharedMemoryRef ref = sharedMemoryOutputs.get(t.name());
            if (ref != null) {
                long needed = BinaryTensors.encodedSize(t);
                if (needed > ref.byteSize()) {
                    throw GantryException.invalid("output '" + t.name() + "' needs " + needed + " bytes but its"
                            + " shared_memory_byte_size is " + ref.byteSize());
                }
                BinaryTensors.write(t, sharedMemory.view(ref.region(), ref.offset(), needed));
            }
        }
        ResponseBodies.Body headerBody = bodies.allocate(headerCapacity(response.outputs(), encoding,
                sharedMemoryOutputs));
        try {
            return encodeInto(headerBody, response, encoding, sharedMemoryOutputs, bodies);
        } catch (RuntimeException | Error e) {
            headerBody.release();
            throw e;
        }
    }

    private EncodedResponse encodeInto(ResponseBodies.Body headerBody, InferenceResponse response,
                                       OutputEncoding encoding,
                                       java.util.Map<String, SharedMemoryRef> sharedMemoryOutputs,
                                       ResponseBodies bodies) {
        List<Tensor> outputs = response.outputs();
        List<Tensor> binary = new ArrayList<>();
        Buffer header = headerBody.buffer();
        try (JsonGenerator g = json.createGenerator(new BufferOutputStream(header))) {
            g.writeStartObject();
            writeString(g, F_MODEL_NAME, response.model().name());
            writeString(g, F_MODEL_VERSION, VersionText.text(response.model().version()));
            if (!response.id().isEmpty()) {
                writeString(g, F_ID, response.id());
            }
            g.writeFieldName(F_OUTPUTS);
            g.writeStartArray();
            for (Tensor t : outputs) {
                SharedMemoryRef inRegion = sharedMemoryOutputs.get(t.name());
                if (inRegion != null) {
                    writeTensorHead(g, t);
                    g.writeObjectFieldStart("parameters");
                    writeString(g, F_SHARED_MEMORY_REGION, inRegion.region());
                    g.writeNumberField("shared_memory_byte_size", BinaryTensors.encodedSize(t));
                    if (inRegion.offset() != 0) {
                        g.writeNumberField("shared_memory_offset", inRegion.offset());
                    }
                    g.writeEndObject();
                    g.writeEndObject();
                    continue;
                }
                String[] strings = t.datatype().isFixedSize() ? null : JsonTensorWriter.utf8(t.strings());
                boolean asBinary = encoding.isBinary(t.name()) || (!t.datatype().isFixedSize() && strings == null);
                writeTensorHead(g, t);
                if (asBinary) {
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", BinaryTensors.encodedSize(t));
                    g.writeEndObject();
                    binary.add(t);
                } else {
                    g.writeFieldName(F_DATA);
                    if (strings == null && t.byteSize() >= DIRECT_ARRAY_BYTES) {
                        // An empty raw value writes the ':' and counts as the field's value; the array itself
                        // goes straight into the body after what the generator has buffered so far.
                        g.writeRawValue("");
                        g.flush();
                        JsonTensorWriter.writeNumbers(header, t);
                    } else {
                        JsonTensorWriter.write(g, t, strings);
                    }
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new GantryException(ErrorCode.INTERNAL, "could not encode the response: " + e.getMessage());
        }
        if (binary.isEmpty()) {
            return new EncodedResponse(header, OptionalLong.empty(), headerBody.releaser());
        }
        long total = header.length();
        for (Tensor t : binary) {
            total += BinaryTensors.encodedSize(t);
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new GantryException(ErrorCode.RESOURCE_EXHAUSTED, "response of " + total
                    + " bytes is too large to send in one body");
        }
        ResponseBodies.Body body = bodies.allocate((int) total);
        try {
            Buffer out = body.buffer();
            out.appendBuffer(header);
            for (Tensor t : binary) {
                BinaryTensors.append(t, out);
            }
        } catch (RuntimeException | Error e) {
            body.release();
            throw e;
        }
        int headerLength = header.length();
        headerBody.release();
        return new EncodedResponse(body.buffer(), OptionalLong.of(headerLength), body.releaser());
    }
}
