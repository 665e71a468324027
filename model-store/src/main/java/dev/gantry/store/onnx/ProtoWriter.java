package dev.gantry.store.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Appends protocol buffers wire-format fields to a growing byte array. */
final class ProtoWriter {

    /*
     * Only the wire types the ONNX messages need: VARINT (0) for integers and enums, I32 (5) for a single
     * float attribute, and LEN (2) for strings, bytes, nested messages and packed repeated integers.
     * Nested messages are encoded first and then written with their length, which costs a copy per level
     * but keeps every message encoder a plain function of its fields. Fields are written in the order the
     * callers give, so the same model always yields the same bytes.
     */

    static final int VARINT = 0;
    static final int LEN = 2;
    static final int I32 = 5;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    ProtoWriter tag(int field, int wireType) {
        return varint(((long) field << 3) | wireType);
    }

    ProtoWriter int64(int field, long value) {
        return tag(field, VARINT).varint(value);
    }

    ProtoWriter fixed32(int field, int bits) {
        tag(field, I32);
        for (int shift = 0; shift < 32; shift += 8) {
            out.write((bits >>> shift) & 0xFF);
        }
        return this;
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, LEN).varint(value.length);
        out.writeBytes(value);
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter message) {
        return bytes(field, message.toBytes());
    }

    ProtoWriter packedInt64(int field, long[] values) {
        if (values.length == 0) {
            return this;
        }
        ProtoWriter payload = new ProtoWriter();
        for (long v : values) {
            payload.varint(v);
        }
        return bytes(field, payload.toBytes());
    }

    byte[] toBytes() {
        return out.toByteArray();
    }
}
