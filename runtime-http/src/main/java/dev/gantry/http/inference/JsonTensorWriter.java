package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.gantry.core.inference.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes a tensor's elements as a flat JSON {@code data} array in the OIP element encoding. */
final class JsonTensorWriter {
    private JsonTensorWriter() {
    }

    /**
     * The BYTES elements decoded as UTF-8, or null when any element is not valid UTF-8 (such a tensor can only
     * be sent as binary without losing bytes).
     */
    static String[] utf8(List<byte[]> elements) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        String[] out = new String[elements.size()];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = decoder.decode(ByteBuffer.wrap(elements.get(i))).toString();
            }
        } catch (CharacterCodingException e) {
            return null;
        }
        return out;
    }

    /** Writes {@code tensor}'s elements; for BYTES, {@code strings} are its elements already decoded. */
    static void write(JsonGenerator g, Tensor tensor, String[] strings) throws IOException {
        g.writeStartArray();
        if (strings != null) {
            for (String s : strings) {
                g.writeString(s);
            }
            g.writeEndArray();
            return;
        }
        ByteBuffer b = tensor.data();
        switch (tensor.datatype()) {
            case BOOL -> {
                while (b.hasRemaining()) {
                    g.writeBoolean(b.get() != 0);
                }
            }
            case INT8 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.get());
                }
            }
            case UINT8 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.get() & 0xFF);
                }
            }
            case INT16 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getShort());
                }
            }
            case UINT16 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getShort() & 0xFFFF);
                }
            }
            case INT32 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getInt());
                }
            }
            case UINT32 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(Integer.toUnsignedLong(b.getInt()));
                }
            }
            case INT64 -> {
                while (b.hasRemaining()) {
                    g.writeNumber(b.getLong());
                }
            }
            case UINT64 -> {
                while (b.hasRemaining()) {
                    long v = b.getLong();
                    if (v >= 0) {
                        g.writeNumber(v);
                    } else {
                        g.writeNumber(Long.toUnsignedString(v));
                    }
                }
            }
            case FP16 -> {
                while (b.hasRemaining()) {
                    writeFloat(g, Float.float16ToFloat(b.getShort()));
                }
            }
            case FP32 -> {
                while (b.hasRemaining()) {
                    writeFloat(g, b.getFloat());
                }
            }
            case FP64 -> {
                while (b.hasRemaining()) {
                    double v = b.getDouble();
                    if (Double.isFinite(v)) {
                        g.writeNumber(v);
                    } else {
                        writeSpecial(g, v);
                    }
                }
            }
            case BYTES -> throw new IllegalArgumentException("BYTES tensor '" + tensor.name() + "' needs strings");
        }
        g.writeEndArray();
    }

    private static void writeFloat(JsonGenerator g, float v) throws IOException {
        if (Float.isFinite(v)) {
            g.writeNumber(v);
        } else {
            writeSpecial(g, v);
        }
    }

    private static void writeSpecial(JsonGenerator g, double v) throws IOException {
        g.writeString(Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
}
