package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.NumberOutput;
import dev.gantry.core.inference.Tensor;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes a tensor's elements as a flat JSON {@code data} array in the OIP element encoding. */
final class JsonTensorWriter {
    /** The scratch array numbers are written into before each append to the body. */
    private static final int CHUNK = 8192;
    /**
     * Room kept free in the scratch array: a separator and the longest element text (a double, 24 bytes), or a
     * separator and four floats with commas between (64 bytes, or 56 for four "-Infinity" texts).
     */
    private static final int HEADROOM = 72;
    /** A float's exponent bits, all set for NaN and the infinities. */
    private static final int EXPONENT = 0x7F80_0000;
    private static final byte[] NAN = {'"', 'N', 'a', 'N', '"'};
    private static final byte[] INFINITY = {'"', 'I', 'n', 'f', 'i', 'n', 'i', 't', 'y', '"'};
    private static final byte[] NEGATIVE_INFINITY = {'"', '-', 'I', 'n', 'f', 'i', 'n', 'i', 't', 'y', '"'};

    private JsonTensorWriter() {
    }

    /*
     * A response's data arrays are most of its bytes (a MiniLM s16 output is 6,144 floats, ~70 KB). Writing them
     * through JsonGenerator.writeNumber(float) built a String per value, copied it to a char[] and encoded that
     * to bytes; JFR put it at ~16% of the event loop under MiniLM s16 load. writeNumbers appends the array's
     * ASCII straight to the body through one scratch array, with FloatText for floats. The text is unchanged:
     * the same characters as before for every type (FloatText gives Float.toString's digits, which are what
     * Jackson's writer printed; FP64 outputs are rare and keep Jackson's printer, one String per value).
     */

    /**
     * Appends a fixed-size tensor's elements to {@code out} as a JSON array, in the same text
     * {@link #write(JsonGenerator, Tensor, String[])} produces.
     */
    static void writeNumbers(Buffer out, Tensor tensor) {
        ByteBuffer b = tensor.data();
        byte[] buf = new byte[(int) Math.min(CHUNK, 2L + (long) b.remaining() * 25 + HEADROOM)];
        int pos = 0;
        buf[pos++] = '[';
        // the separator's width: 0 before the first element, 1 after (the comma is written either way)
        int sep = 0;
        switch (tensor.datatype()) {
            case FP32 -> {
                // four at a time (FloatText.writeFour interleaves their work), the last one to three alone
                while (b.remaining() >= 16) {
                    pos = room(out, buf, pos);
                    buf[pos] = ',';
                    pos += sep;
                    sep = 1;
                    int b1 = b.getInt();
                    int b2 = b.getInt();
                    int b3 = b.getInt();
                    int b4 = b.getInt();
                    if ((b1 & EXPONENT) != EXPONENT && (b2 & EXPONENT) != EXPONENT
                            && (b3 & EXPONENT) != EXPONENT && (b4 & EXPONENT) != EXPONENT) {
                        pos = FloatText.writeFour(b1, b2, b3, b4, buf, pos);
                    } else {
                        pos = floatText(Float.intBitsToFloat(b1), buf, pos);
                        buf[pos++] = ',';
                        pos = floatText(Float.intBitsToFloat(b2), buf, pos);
                        buf[pos++] = ',';
                        pos = floatText(Float.intBitsToFloat(b3), buf, pos);
                        buf[pos++] = ',';
                        pos = floatText(Float.intBitsToFloat(b4), buf, pos);
                    }
                }
                while (b.hasRemaining()) {
                    pos = room(out, buf, pos);
                    buf[pos] = ',';
                    pos += sep;
                    sep = 1;
                    pos = floatText(b.getFloat(), buf, pos);
                }
            }
            case BYTES -> throw new IllegalArgumentException("BYTES tensor '" + tensor.name() + "' needs strings");
            default -> {
                while (b.hasRemaining()) {
                    pos = room(out, buf, pos);
                    buf[pos] = ',';
                    pos += sep;
                    sep = 1;
                    pos = element(tensor, b, buf, pos);
                }
            }
        }
        buf[pos++] = ']';
        out.appendBytes(buf, 0, pos);
    }

    /** Moves the scratch array's bytes into the body when less than HEADROOM is left; returns where to write. */
    private static int room(Buffer out, byte[] buf, int pos) {
        if (pos > buf.length - HEADROOM) {
            out.appendBytes(buf, 0, pos);
            return 0;
        }
        return pos;
    }

    /**
     * The most bytes {@link #writeNumbers} can write for {@code tensor}, so the body can be sized once instead of
     * growing (and copying) through every power of two on the way to ~70 KB.
     */
    static long maxTextLength(Tensor tensor) {
        int perElement = switch (tensor.datatype()) {
            case BOOL -> 5;
            case INT8, UINT8 -> 4;
            case INT16, UINT16 -> 6;
            case INT32, UINT32 -> 11;
            case INT64, UINT64 -> 20;
            case FP16, FP32 -> FloatText.MAX_LENGTH;
            case FP64 -> 24;
            case BYTES -> throw new IllegalArgumentException("BYTES tensor '" + tensor.name() + "' has no fixed size");
        };
        return 2 + (long) tensor.data().remaining() / tensor.datatype().byteSize() * (perElement + 1);
    }

    /** Reads one element of a fixed-size type other than FP32 from {@code b} and writes its text. */
    private static int element(Tensor tensor, ByteBuffer b, byte[] buf, int pos) {
        return switch (tensor.datatype()) {
            case BOOL -> b.get() != 0 ? ascii("true", buf, pos) : ascii("false", buf, pos);
            case INT8 -> integer(b.get(), buf, pos);
            case UINT8 -> integer(b.get() & 0xFF, buf, pos);
            case INT16 -> integer(b.getShort(), buf, pos);
            case UINT16 -> integer(b.getShort() & 0xFFFF, buf, pos);
            case INT32 -> integer(b.getInt(), buf, pos);
            case UINT32 -> integer(Integer.toUnsignedLong(b.getInt()), buf, pos);
            case INT64 -> integer(b.getLong(), buf, pos);
            case UINT64 -> unsigned(b.getLong(), buf, pos);
            case FP16 -> floatText(Float.float16ToFloat(b.getShort()), buf, pos);
            case FP32 -> floatText(b.getFloat(), buf, pos);
            case FP64 -> {
                double v = b.getDouble();
                yield Double.isFinite(v) ? ascii(NumberOutput.toString(v, /* useFastWriter= */ true), buf, pos)
                        : special(v, buf, pos);
            }
            case BYTES -> throw new IllegalArgumentException("BYTES tensor '" + tensor.name() + "' needs strings");
        };
    }

    private static int floatText(float v, byte[] buf, int pos) {
        return Float.isFinite(v) ? FloatText.write(v, buf, pos) : special(v, buf, pos);
    }

    private static int special(double v, byte[] buf, int pos) {
        byte[] text = Double.isNaN(v) ? NAN : v > 0 ? INFINITY : NEGATIVE_INFINITY;
        System.arraycopy(text, 0, buf, pos, text.length);
        return pos + text.length;
    }

    private static int ascii(String s, byte[] buf, int pos) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            buf[pos + i] = (byte) s.charAt(i);
        }
        return pos + n;
    }

    private static int integer(long v, byte[] buf, int pos) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return ascii("-9223372036854775808", buf, pos);
            }
            buf[pos++] = '-';
            v = -v;
        }
        return unsigned(v, buf, pos);
    }

    /** Writes {@code v} read as an unsigned 64-bit integer. */
    private static int unsigned(long v, byte[] buf, int pos) {
        int len = 1;
        for (long rest = Long.divideUnsigned(v, 10); rest != 0; rest /= 10) {
            len++;
        }
        int i = pos + len - 1;
        if (v < 0) {
            long quotient = Long.divideUnsigned(v, 10);
            buf[i--] = (byte) ('0' + (v - quotient * 10));
            v = quotient;
        }
        for (; i >= pos; i--) {
            long quotient = v / 10;
            buf[i] = (byte) ('0' + (v - quotient * 10));
            v = quotient;
        }
        return pos + len;
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
                FloatScratch scratch = FloatScratch.THIS_THREAD.get();
                while (b.hasRemaining()) {
                    scratch.write(g, Float.float16ToFloat(b.getShort()));
                }
            }
            case FP32 -> {
                FloatScratch scratch = FloatScratch.THIS_THREAD.get();
                while (b.hasRemaining()) {
                    scratch.write(g, b.getFloat());
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

    /*
     * Small float outputs (below OipCodec's DIRECT_ARRAY_BYTES: an MLP's 8 scores) go through the generator, one
     * value at a time. JsonGenerator.writeNumber(float) made a String per value (Jackson's FloatToDecimal), which
     * JFR put at 5.6% of the event loop's samples under MLP JSON load (12-01, BuildComparison --jfr). FloatText
     * writes the same characters into a scratch array, handed to the generator as an already-encoded number.
     */
    private static final class FloatScratch {
        /* One per thread, not one per response: a Netty FastThreadLocal, an array read on Vert.x's threads (event
         * loops, and the workers that encode large responses). Every use ends within one write, and nothing a
         * write calls writes a float tensor again. */
        static final io.netty.util.concurrent.FastThreadLocal<FloatScratch> THIS_THREAD =
                new io.netty.util.concurrent.FastThreadLocal<>() {
                    @Override
                    protected FloatScratch initialValue() {
                        return new FloatScratch();
                    }
                };

        private final byte[] bytes = new byte[32];
        private final char[] chars = new char[32];

        void write(JsonGenerator g, float v) throws IOException {
            if (!Float.isFinite(v)) {
                writeSpecial(g, v);
                return;
            }
            int end = FloatText.write(v, bytes, 0);
            for (int i = 0; i < end; i++) {
                chars[i] = (char) bytes[i];
            }
            g.writeNumber(chars, 0, end);
        }
    }

    private static void writeSpecial(JsonGenerator g, double v) throws IOException {
        g.writeString(Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
}
