package dev.gantry.http.inference;

import io.vertx.core.buffer.Buffer;

import java.io.OutputStream;

/** An OutputStream appending to a Vert.x buffer, so an encoder writes the response body in place. */
final class BufferOutputStream extends OutputStream {
    private final Buffer out;

    BufferOutputStream(Buffer out) {
        this.out = out;
    }

    @Override
    public void write(int b) {
        out.appendByte((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        out.appendBytes(b, off, len);
    }
}
