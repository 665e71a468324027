package dev.gantry.http.inference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * FloatText writes exactly Float.toString's text, which parses back to the same float bits. The exhaustive check
 * over all 2^32 bit patterns runs off CI with {@code -Dgantry.floatText.exhaustive=true} (minutes on one core).
 */
class FloatTextTest {
    private final byte[] buf = new byte[FloatText.MAX_LENGTH + 8];

    private String text(float v) {
        int end = FloatText.write(v, buf, 3);
        return new String(buf, 3, end - 3, StandardCharsets.ISO_8859_1);
    }

    /** The text equals Float.toString's and parses back to the identical bits; the message names the bits. */
    private void assertSameAsJdk(int bits) {
        float v = Float.intBitsToFloat(bits);
        if (!Float.isFinite(v)) {
            return;
        }
        String mine = text(v);
        if (mine.length() > FloatText.MAX_LENGTH) {
            fail("bits 0x" + Integer.toHexString(bits) + ": " + mine + " is longer than MAX_LENGTH");
        }
        if (!mine.equals(Float.toString(v))) {
            fail("bits 0x" + Integer.toHexString(bits) + ": Float.toString gives " + Float.toString(v)
                    + ", FloatText gives " + mine);
        }
        assertEquals(bits, Float.floatToRawIntBits(Float.parseFloat(mine)), mine);
    }

    /** Neighbours that take writeFour's interleaved path (normal, not powers of two, below and above 1). */
    private static final float[] NEIGHBOURS = {0.1f, -12.5f, 3.0E-4f};
    private static final String[] NEIGHBOUR_TEXTS = {"0.1", "-12.5", "3.0E-4"};

    /**
     * writeFour with {@code bits} in lane {@code at} and NEIGHBOURS in the others writes what writeBits writes for
     * each (the callers check writeBits against Float.toString).
     */
    private void assertLaneOfFour(int bits, int at, byte[] four, byte[] lane) {
        int[] quad = new int[4];
        for (int i = 0, n = 0; i < 4; i++) {
            quad[i] = i == at ? bits : Float.floatToRawIntBits(NEIGHBOURS[n++]);
        }
        int end = FloatText.writeFour(quad[0], quad[1], quad[2], quad[3], four, 0);
        int laneEnd = FloatText.writeBits(bits, lane, 0);
        byte[] expected = new byte[4 * FloatText.MAX_LENGTH + 3];
        int pos = 0;
        for (int i = 0, n = 0; i < 4; i++) {
            if (i > 0) {
                expected[pos++] = ',';
            }
            if (i == at) {
                System.arraycopy(lane, 0, expected, pos, laneEnd);
                pos += laneEnd;
            } else {
                byte[] text = NEIGHBOUR_TEXTS[n++].getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(text, 0, expected, pos, text.length);
                pos += text.length;
            }
        }
        if (!java.util.Arrays.equals(expected, 0, pos, four, 0, end)) {
            fail("writeFour with bits 0x" + Integer.toHexString(bits) + " in lane " + at + " wrote "
                    + new String(four, 0, end, StandardCharsets.ISO_8859_1) + ", expected "
                    + new String(expected, 0, pos, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void writeFour_matchesWriteBitsInEveryLane() {
        SplittableRandom random = new SplittableRandom(5);
        byte[] four = new byte[4 * FloatText.MAX_LENGTH + 3];
        byte[] lane = new byte[FloatText.MAX_LENGTH];
        // integers, values of 1 and more, and random finite patterns beside neighbours of the interleaved path
        float[] awkward = {1.0f, 3.0f, 7.0f, 12.5f, 100.0f, 1234567.0f, 9999999.0f, 1.0E7f, 16777215.0f, 1.6777216E7f,
                123456.79f, 8388607.5f, Float.MAX_VALUE, 1.1754944E-38f, 9.999999E-4f, 0.001f};
        for (float v : awkward) {
            for (int bits : new int[] {Float.floatToRawIntBits(v), Float.floatToRawIntBits(-v)}) {
                assertSameAsJdk(bits);
                for (int at = 0; at < 4; at++) {
                    assertLaneOfFour(bits, at, four, lane);
                }
            }
        }
        for (int i = 0; i < 200_000; i++) {
            int bits = random.nextInt();
            if (Float.isFinite(Float.intBitsToFloat(bits))) {
                assertSameAsJdk(bits);
                assertLaneOfFour(bits, i & 3, four, lane);
            }
        }
    }

    @Test
    void writeFour_staysInsideItsBuffer() {
        // three texts of MAX_LENGTH bytes each (9 digits, a sign, a two-digit negative exponent), then a fourth
        // of each layout in the last 15 bytes of a buffer of exactly the size writeFour asks for: the 8-byte
        // stores that place and placeWhole make past a short text must still land inside it
        SplittableRandom random = new SplittableRandom(6);
        int[] longest = new int[3];
        for (int found = 0; found < 3; ) {
            float v = -(float) (1 + random.nextDouble() * 0.35) * 1.0E-20f;
            if (Float.toString(v).length() == FloatText.MAX_LENGTH) {
                longest[found++] = Float.floatToRawIntBits(v);
            }
        }
        float[] fourth = {-0.0012345679f, -0.001f, -0.01f, 0.0123f, -0.12345678f, -1.5f, -123456.79f, -1234567.9f,
                -9999999.0f, -3.0f, -1.2345678E-20f, -3.4028235E38f, 1.4E-45f};
        byte[] exact = new byte[4 * FloatText.MAX_LENGTH + 3];
        for (float v : fourth) {
            int end = FloatText.writeFour(longest[0], longest[1], longest[2], Float.floatToRawIntBits(v), exact, 0);
            String expected = Float.intBitsToFloat(longest[0]) + "," + Float.intBitsToFloat(longest[1]) + ","
                    + Float.intBitsToFloat(longest[2]) + "," + v;
            assertEquals(expected, new String(exact, 0, end, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void zeros_keepTheirSign() {
        assertEquals("0.0", text(0.0f));
        assertEquals("-0.0", text(-0.0f));
    }

    @Test
    void extremes_matchFloatToString() {
        assertEquals("1.4E-45", text(Float.MIN_VALUE));
        assertEquals("3.4028235E38", text(Float.MAX_VALUE));
        assertEquals("-3.4028235E38", text(-Float.MAX_VALUE));
        assertEquals("1.1754944E-38", text(Float.MIN_NORMAL));
        assertEquals("-1.1754944E-38", text(-Float.MIN_NORMAL));
    }

    @Test
    void layout_switchesToScientificOutside1e_3To1e7() {
        assertEquals("0.001", text(0.001f));
        assertEquals("9.999999E-4", text(9.999999E-4f));
        assertEquals("9999999.0", text(9999999f));
        assertEquals("1.0E7", text(1.0E7f));
        assertEquals("1234.5", text(1234.5f));
        assertEquals("100.0", text(100f));
        assertEquals("0.1", text(0.1f));
    }

    @Test
    void everyExponentsBoundaries_matchFloatToString() {
        int[] significands = {0, 1, 2, 3, 0x40_0000, 0x7F_FFFE, 0x7F_FFFF, 0x55_5555, 0x2A_AAAA};
        for (int exponent = 0; exponent < 0xFF; exponent++) {
            for (int t : significands) {
                for (int sign : new int[] {0, 0x8000_0000}) {
                    assertSameAsJdk(sign | exponent << 23 | t);
                }
            }
        }
    }

    @Test
    void powersOfTenAndTheirNeighbours_matchFloatToString() {
        for (int e = -46; e <= 39; e++) {
            float p = Float.parseFloat("1e" + e);
            for (float v : new float[] {p, Math.nextUp(p), Math.nextDown(p), 2 * p, 5 * p, 9 * p}) {
                assertSameAsJdk(Float.floatToRawIntBits(v));
            }
        }
    }

    @Test
    void subnormals_matchFloatToString() {
        for (int t = 1; t < 1 << 14; t++) {
            assertSameAsJdk(t);
        }
        for (int t = 0x7F_FFFF; t > 0x7F_FFFF - (1 << 12); t--) {
            assertSameAsJdk(t);
        }
    }

    @Test
    void integersUpTo2To24_matchFloatToString() {
        for (int i = 1; i <= 1 << 24; i += 211) {
            assertSameAsJdk(Float.floatToRawIntBits(i));
        }
        assertSameAsJdk(Float.floatToRawIntBits(1 << 24));
    }

    @Test
    void randomBitPatterns_matchFloatToString() {
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 300_000; i++) {
            assertSameAsJdk(random.nextInt());
        }
    }

    @Test
    void valuesModelsOutput_matchFloatToString() {
        SplittableRandom random = new SplittableRandom(384);
        for (int i = 0; i < 200_000; i++) {
            assertSameAsJdk(Float.floatToRawIntBits((float) random.nextDouble(-10, 10)));
            // log-uniform over the two plain layouts, 1e-3 <= |v| < 1e7, and a little beyond them
            float wide = (float) Math.pow(10, random.nextDouble(-4, 8));
            assertSameAsJdk(Float.floatToRawIntBits(random.nextBoolean() ? wide : -wide));
        }
    }

    @Test
    void eightDigits_areTheZeroPaddedDigitsFirstByteFirst() {
        SplittableRandom random = new SplittableRandom(8);
        int[] edges = {0, 1, 9, 10, 99, 100, 9_999, 10_000, 10_001, 99_999_999, 12_345_678, 10_000_000, 90_000_009};
        for (int i = 0; i < 100_000 + edges.length; i++) {
            int n = i < edges.length ? edges[i] : random.nextInt(100_000_000);
            long digits = FloatText.eightDigits(n);
            StringBuilder text = new StringBuilder();
            for (int b = 0; b < 8; b++) {
                text.append((char) ('0' + (digits >>> 8 * b & 0xFF)));
            }
            assertEquals(String.format("%08d", n), text.toString(), "n=" + n);
        }
    }

    @Test
    void write_touchesOnlyMaxLengthBytesFromItsStart() {
        float[] everyLayout = {0.0f, -0.0f, 1.0f, -1.0f, 0.001f, -0.0012345678f, 0.012345678f, -0.12345678f,
                1234567.9f, -9999999.0f, 123456.79f, 100.0f, 1.0E7f, -1.2345678E-20f, -3.4028235E38f, 1.4E-45f,
                -9.999999E-4f, 0.1f, 12.5f, -8388608.0f, 16777216.0f};
        byte[] exact = new byte[FloatText.MAX_LENGTH + 2];
        for (float v : everyLayout) {
            java.util.Arrays.fill(exact, (byte) '#');
            int end = FloatText.write(v, exact, 2);
            assertEquals(Float.toString(v), new String(exact, 2, end - 2, StandardCharsets.ISO_8859_1));
            assertEquals("##", new String(exact, 0, 2, StandardCharsets.ISO_8859_1), "bytes before the start");
        }
    }

    /** Floats spread like a model's outputs (mostly below 1 in magnitude), with an awkward one now and then. */
    private static int modelLikeBits(SplittableRandom random) {
        if (random.nextInt(8) == 0) {
            float[] awkward = {0.0f, -0.0f, 1.0f, 0.5f, -0.25f, 3.0f, 12.5f, 1.0E7f, 1.4E-45f, 1.1754944E-38f,
                    9.999999E-4f, 0.001f, -123456.79f, 7.0E-10f, 0.99999994f, Float.MAX_VALUE};
            return Float.floatToRawIntBits(awkward[random.nextInt(awkward.length)]);
        }
        return Float.floatToRawIntBits((float) (random.nextGaussian() * (random.nextInt(30) == 0 ? 3.0 : 0.3)));
    }

    @Test
    void writeFour_writesFourFloatToStringsBetweenCommas() {
        SplittableRandom random = new SplittableRandom(4);
        byte[] out = new byte[4 * FloatText.MAX_LENGTH + 3 + 2];
        for (int i = 0; i < 400_000; i++) {
            int[] bits = new int[4];
            for (int lane = 0; lane < 4; lane++) {
                // now and then any finite bit pattern (subnormals among them, which take the one-at-a-time path
                // as zeros, powers of two and whole numbers from modelLikeBits do)
                int any = random.nextInt();
                bits[lane] = random.nextInt(50) == 0 && Float.isFinite(Float.intBitsToFloat(any)) ? any
                        : modelLikeBits(random);
            }
            java.util.Arrays.fill(out, (byte) '#');
            int end = FloatText.writeFour(bits[0], bits[1], bits[2], bits[3], out, 2);
            String expected = Float.intBitsToFloat(bits[0]) + "," + Float.intBitsToFloat(bits[1]) + ","
                    + Float.intBitsToFloat(bits[2]) + "," + Float.intBitsToFloat(bits[3]);
            assertEquals(expected, new String(out, 2, end - 2, StandardCharsets.ISO_8859_1),
                    () -> "bits " + java.util.Arrays.toString(bits));
            assertEquals("##", new String(out, 0, 2, StandardCharsets.ISO_8859_1), "bytes before the start");
        }
    }

    @Test
    void writeFour_refusesNonFinite() {
        int one = Float.floatToRawIntBits(0.1f);
        int nan = Float.floatToRawIntBits(Float.NaN);
        assertThrows(IllegalArgumentException.class, () -> FloatText.writeFour(one, one, nan, one, buf, 0));
    }

    @Test
    void nonFinite_isRefused() {
        assertThrows(IllegalArgumentException.class, () -> FloatText.write(Float.NaN, buf, 0));
        assertThrows(IllegalArgumentException.class, () -> FloatText.write(Float.NEGATIVE_INFINITY, buf, 0));
    }

    @Test
    void log10Approximations_areExactForEveryFloatExponent() {
        for (int q = -160; q <= 110; q++) {
            assertEquals(floorLog10(BigDecimal.ONE.scaleByPowerOfTen(0).multiply(pow2(q))),
                    FloatText.floorLog10Pow2(q), "q=" + q);
            assertEquals(floorLog10(new BigDecimal("0.75").multiply(pow2(q))),
                    FloatText.floorLog10ThreeQuartersPow2(q), "q=" + q);
        }
    }

    private static BigDecimal pow2(int q) {
        return q >= 0 ? new BigDecimal(java.math.BigInteger.TWO.pow(q))
                : BigDecimal.ONE.divide(new BigDecimal(java.math.BigInteger.TWO.pow(-q)));
    }

    /** floor(log10(x)) for x > 0, exactly. */
    private static int floorLog10(BigDecimal x) {
        BigDecimal normalized = x.round(MathContext.DECIMAL128);
        int k = normalized.precision() - normalized.scale() - 1;
        // x itself may sit just below the power of ten its rounding reached
        return x.compareTo(BigDecimal.ONE.scaleByPowerOfTen(k)) < 0 ? k - 1 : k;
    }

    @Test
    @EnabledIfSystemProperty(named = "gantry.floatText.exhaustive", matches = "true")
    void allBitPatterns_matchFloatToString() {
        // every core takes a share of the 2^32 patterns, each with its own buffer
        java.util.stream.LongStream.range(0, 1 << 16).parallel().forEach(high -> {
            FloatTextTest each = new FloatTextTest();
            byte[] four = new byte[4 * FloatText.MAX_LENGTH + 3];
            byte[] lane = new byte[FloatText.MAX_LENGTH];
            for (long low = 0; low < 1 << 16; low += 4) {
                int b = (int) (high << 16 | low);
                each.assertSameAsJdk(b);
                each.assertSameAsJdk(b + 1);
                each.assertSameAsJdk(b + 2);
                each.assertSameAsJdk(b + 3);
                // each pattern again in one lane of writeFour (all four finite or none, as the exponent is shared)
                if (Float.isFinite(Float.intBitsToFloat(b))) {
                    int end = FloatText.writeFour(b, b + 1, b + 2, b + 3, four, 0);
                    String expected = Float.intBitsToFloat(b) + "," + Float.intBitsToFloat(b + 1) + ","
                            + Float.intBitsToFloat(b + 2) + "," + Float.intBitsToFloat(b + 3);
                    if (!expected.equals(new String(four, 0, end, StandardCharsets.ISO_8859_1))) {
                        fail("writeFour from bits 0x" + Integer.toHexString(b) + " wrote "
                                + new String(four, 0, end, StandardCharsets.ISO_8859_1));
                    }
                }
                // and each in a lane beside three outputs of the interleaved path, so that every normal float
                // that is not a power of two or a whole number below 2^23 (b's own neighbours may be) takes that
                // path once
                for (int i = 0; i < 4; i++) {
                    int bits = b + i;
                    if (Float.isFinite(Float.intBitsToFloat(bits))) {
                        each.assertLaneOfFour(bits, i, four, lane);
                    }
                }
            }
        });
    }
}
