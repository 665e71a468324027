package dev.gantry.bench.oip;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.gantry.core.inference.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;

/** Builds Open Inference Protocol v2 REST request bodies, as a client would send them. */
public final class OipBodies {
    private static final JsonFactory JSON = new JsonFactory();

    /**
     * A request body.
     *
     * @param bytes the whole body
     * @param headerLength the JSON header's length when the body uses the binary extension (send it as
     *     {@code Inference-Header-Content-Length}), else empty
     */
    public record Body(byte[] bytes, OptionalLong headerLength) {
    }

    private OipBodies() {
    }

    /** Every input inline as a flat JSON {@code data} array; outputs requested as JSON. */
    public static Body json(List<Tensor> inputs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            for (Tensor t : inputs) {
                g.writeStartObject();
                writeHead(g, t);
                g.writeArrayFieldStart("data");
                writeData(g, t);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Body(out.toByteArray(), OptionalLong.empty());
    }

    /** Every input as raw bytes after the JSON header, and every output requested as raw bytes. */
    public static Body binary(List<Tensor> inputs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            for (Tensor t : inputs) {
                g.writeStartObject();
                writeHead(g, t);
                g.writeObjectFieldStart("parameters");
                g.writeNumberField("binary_data_size", t.byteSize());
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("parameters");
            g.writeBooleanField("binary_data_output", true);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int header = out.size();
        for (Tensor t : inputs) {
            ByteBuffer data = t.data();
            byte[] raw = new byte[data.remaining()];
            data.get(raw);
            out.writeBytes(raw);
        }
        return new Body(out.toByteArray(), OptionalLong.of(header));
    }

    private static void writeHead(JsonGenerator g, Tensor t) throws IOException {
        g.writeStringField("name", t.name());
        g.writeArrayFieldStart("shape");
        for (long d : t.shape()) {
            g.writeNumber(d);
        }
        g.writeEndArray();
        g.writeStringField("datatype", t.datatype().name());
    }

    private static void writeData(JsonGenerator g, Tensor t) throws IOException {
        ByteBuffer b = t.data();
        switch (t.datatype()) {
            case FP32 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getFloat());
                }
            }
            case INT64 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getLong());
                }
            }
            case INT32 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getInt());
                }
            }
            default -> throw new IllegalArgumentException("benchmark bodies carry FP32, INT32 and INT64 only, not "
                    + t.datatype());
        }
    }
}
