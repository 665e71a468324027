package dev.gantry.store.rollout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LatencyCodecTest {
    @Test
    void histogram_isEncodedAsItsNonEmptyBuckets_andDecodedBackTo64Buckets() {
        long[] h = new long[64];
        h[0] = 3;
        h[12] = 40;
        h[63] = Long.MAX_VALUE;
        String text = LatencyCodec.encode(h);
        assertEquals("0:3,12:40,63:" + Long.MAX_VALUE, text);
        assertArrayEquals(h, LatencyCodec.decode(text));
        assertEquals("", LatencyCodec.encode(new long[64]));
        assertArrayEquals(new long[64], LatencyCodec.decode(""));
        assertEquals(true, LatencyCodec.encode(max()).length() <= LatencyCodec.MAX_LENGTH);
    }

    @Test
    void decode_refusesMalformedText_namingThePair() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LatencyCodec.decode("1:2,x"));
        assertEquals("latency histogram '1:2,x': 'x' is not index:count", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LatencyCodec.decode("3:1,2:1"));
        assertThrows(IllegalArgumentException.class, () -> LatencyCodec.decode("64:1"));
        assertThrows(IllegalArgumentException.class, () -> LatencyCodec.decode("1:-1"));
    }

    private static long[] max() {
        long[] h = new long[64];
        java.util.Arrays.fill(h, Long.MAX_VALUE);
        return h;
    }
}
