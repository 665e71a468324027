package dev.gantry.http.inference;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * The bytes of a request body as the array behind its buffer, without a copy when the buffer is on the heap
 * (a body read by {@link BodyReader} is): the JSON parser reads them in place, and fixed-size binary tensors
 * view them.
 */
record BodyBytes(byte[] array, int offset, int length) {
    static BodyBytes of(Buffer body) {
        if (body instanceof BufferInternal internal) {
            ByteBuf buf = internal.getByteBuf();
            if (buf.hasArray()) {
                return new BodyBytes(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
            }
        }
        byte[] copy = body.getBytes();
        return new BodyBytes(copy, 0, copy.length);
    }
}
