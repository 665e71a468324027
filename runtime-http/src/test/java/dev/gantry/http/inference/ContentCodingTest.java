package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request decompression under a size limit, and the choice of response coding from Accept-Encoding. */
public class ContentCodingTest {
    /**
     * gzip of {@code bytes} zeros: one member for 1 MiB of zeros, repeated (a valid multi-member gzip stream), so
     * neither the zeros nor the work of compressing them all is ever needed.
     */
    public static byte[] gzipOfZeros(long bytes) throws IOException {
        int block = 1 << 20;
        ByteArrayOutputStream member = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(member)) {
            z.write(new byte[(int) Math.min(block, bytes)]);
        }
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        long left = bytes;
        for (; left >= block; left -= block) {
            wire.writeBytes(member.toByteArray());
        }
        if (left > 0) {
            try (GZIPOutputStream z = new GZIPOutputStream(wire)) {
                z.write(new byte[(int) left]);
            }
        }
        return wire.toByteArray();
    }

    @Test
    void decode_ofOneGigabyteBomb_stopsAtTheLimit_allocatingAboutTheLimitNotTheBomb() throws IOException {
        Buffer bomb = Buffer.buffer(gzipOfZeros(1L << 30));
        long limit = 1L << 20;
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        GantryException e = assertThrows(GantryException.class,
                () -> ContentCoding.decode(ContentCoding.Coding.GZIP, bomb, limit));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, e.code());
        assertTrue(allocated < 8 * limit + bomb.length() * 2L, "allocated " + allocated + " bytes for a 1 GiB bomb");
    }

    @Test
    void decode_exactlyAtTheLimit_isAccepted() throws IOException {
        Buffer body = Buffer.buffer(gzipOfZeros(4096));
        assertEquals(4096, ContentCoding.decode(ContentCoding.Coding.GZIP, body, 4096).length());
    }

    @Test
    void decode_oneBytePastTheLimit_is413() throws IOException {
        Buffer body = Buffer.buffer(gzipOfZeros(4097));
        assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, assertThrows(GantryException.class,
                () -> ContentCoding.decode(ContentCoding.Coding.GZIP, body, 4096)).code());
    }

    @Test
    void decode_holdsTheInflatedBufferInTheLease_andIsRefusedPastTheBudget() throws IOException {
        Buffer body = Buffer.buffer(gzipOfZeros(300_000));
        BodyMemory memory = new BodyMemory(1 << 20);
        BodyMemory.Lease alone = memory.lease();
        assertEquals(300_000, ContentCoding.decode(ContentCoding.Coding.GZIP, body, 1 << 22, alone).length());
        // buffers of 64 KiB doubling to 512 KiB: what was allocated, not only the 300,000 bytes kept
        assertEquals(512 * 1024, alone.held());
        alone.close();

        BodyMemory.Lease other = memory.lease();
        assertTrue(other.grow(700 * 1024));
        BodyMemory.Lease inflating = memory.lease();
        GantryException e = assertThrows(GantryException.class,
                () -> ContentCoding.decode(ContentCoding.Coding.GZIP, body, 1 << 22, inflating));
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, e.code());
        assertEquals(256 * 1024, inflating.held(), "64 + 64 + 128 KiB fit beside the 700 KiB, the next 256 do not");
        inflating.close();
        assertEquals(700 * 1024, memory.held());
    }

    @Test
    void forResponse_prefersGzip_honoursQZero_andWildcards() {
        assertEquals(Optional.of(ContentCoding.Coding.GZIP), ContentCoding.forResponse("gzip, deflate, br"));
        assertEquals(Optional.of(ContentCoding.Coding.DEFLATE), ContentCoding.forResponse("deflate"));
        assertEquals(Optional.of(ContentCoding.Coding.DEFLATE), ContentCoding.forResponse("gzip;q=0.1, deflate"));
        assertEquals(Optional.of(ContentCoding.Coding.GZIP), ContentCoding.forResponse("*"));
        assertEquals(Optional.empty(), ContentCoding.forResponse("gzip;q=0"));
        assertEquals(Optional.empty(), ContentCoding.forResponse("identity"));
        assertEquals(Optional.empty(), ContentCoding.forResponse(null));
    }

    @Test
    void ofRequest_refusesTwoCodingsWith415() {
        assertEquals(ErrorCode.UNSUPPORTED_MEDIA_TYPE, assertThrows(GantryException.class,
                () -> ContentCoding.ofRequest("gzip, deflate")).code());
    }
}
