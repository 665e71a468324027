package dev.gantry.http.inference;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigInteger;
import java.nio.ByteOrder;

/**
 * Writes a finite float's decimal text, the same characters {@link Float#toString(float)} returns, as ASCII
 * straight into a byte array: no String, no char[] per value. It may write scratch bytes after the text it
 * returns the end of, always within {@link #MAX_LENGTH} bytes of the start.
 */
final class FloatText {
    /** The longest text {@link #write} produces, e.g. {@code -1.23456789E-20}. */
    static final int MAX_LENGTH = 15;

    /*
     * The digits are the shortest decimal that parses back to the same float, picked with Schubfach (Raffaello
     * Giulietti, "The Schubfach way to render doubles", 2020), written here from the paper's description:
     *
     * A float is v = c * 2^q with an integer c < 2^24. Every real in the rounding interval R around v (half-way
     * to both neighbours; closed when c is even, since parsing rounds half to even) parses back to v. With
     * k = floor(log10(width of R)), R holds at least one multiple of 10^k and at most one multiple of 10^(k+1),
     * so the shortest decimal in R is either that multiple of 10^(k+1) (when R holds it), or the multiple of
     * 10^k next to v (s = floor(v / 10^k) or s + 1; the closer one, ties to even). Float.toString asks for at
     * least two digits when one would do, so the shorter candidate is only tried when s has three or more
     * digits, and the smallest subnormals (c < 8) are scaled by ten first.
     *
     * Deciding whether a candidate lies in R compares integers with v * 4 / 10^k, which is not exact in
     * binary. It is computed as the product of c (times 4, shifted) with a 63-bit upper approximation g of
     * 10^-k, kept rounded to odd: the result is exact when the product is an integer and odd otherwise, so
     * comparing it with a multiple of 4 gives the same answer as the exact value would (the paper proves 63
     * bits of g suffice for floats; FloatTextTest checks all 2^32 floats against Float.toString off CI).
     */

    /*
     * Text layout: the digits of the chosen decimal (at most 9) are made eight at a time in the bytes of one
     * long (eightDigits, a few multiplications instead of a division per digit pair) and stored with one
     * 8-byte write; the counts of leading and trailing zero digits come from that long's zero bytes. The two
     * layouts nearly every model output takes (0.00ddd and ddd.ddd, 1e-3 <= |v| < 1e7) are written that way;
     * the rest (scientific notation, and ddd.ddd whose digits, trailing zeros counted, are nine) keep the
     * digit-pair loop. Under MiniLM load the text was a third of this class's time and the sign branch, taken at
     * random, another part; the two changes made a float's text 0.69x the time (6,144 outputs of -0.4..0.4, one
     * core).
     *
     * Which candidate wins, and whether the digits are eight or nine, go either way at random on real outputs,
     * so both are chosen with arithmetic on 0/1 values instead of branches: 0.90x the time again (21.7 -> 19.6
     * ns per float, 49,152 real MiniLM s16 outputs, one core; benchmarks/results/float-text-20261201.txt).
     */

    /** "00", "01", ... "99" as ASCII. */
    private static final byte[] DIGIT_PAIRS = new byte[200];
    private static final int Q_MIN = -149;
    private static final int C_MIN = 1 << 23;
    private static final int C_TINY = 8;
    private static final int K_MIN = -45;
    private static final int K_MAX = 31;
    /** G[k - K_MIN]: floor(10^-k * 2^(62 - F)) + 1, in [2^62, 2^63]. */
    private static final long[] G = new long[K_MAX - K_MIN + 1];
    /** F[k - K_MIN]: floor(log2(10^-k)). */
    private static final int[] F = new int[K_MAX - K_MIN + 1];
    /** By biased exponent (1-254) of a normal float that is not a power of two: its k, G[k - K_MIN] and h. */
    private static final int[] K_OF = new int[255];
    private static final long[] G_OF = new long[255];
    private static final int[] H_OF = new int[255];

    static {
        for (int i = 0; i < 100; i++) {
            DIGIT_PAIRS[2 * i] = (byte) ('0' + i / 10);
            DIGIT_PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
        }
        for (int k = K_MIN; k <= K_MAX; k++) {
            int e = -k;
            BigInteger p = BigInteger.TEN.pow(Math.abs(e));
            int f;
            BigInteger g;
            if (e >= 0) {
                f = p.bitLength() - 1;
                g = 62 - f >= 0 ? p.shiftLeft(62 - f) : p.shiftRight(f - 62);
            } else {
                f = -p.bitLength();
                g = BigInteger.ONE.shiftLeft(62 - f).divide(p);
            }
            F[k - K_MIN] = f;
            G[k - K_MIN] = g.add(BigInteger.ONE).longValueExact();
        }
        for (int bq = 1; bq < 255; bq++) {
            int q = bq - 150;
            int k = floorLog10Pow2(q);
            K_OF[bq] = k;
            G_OF[bq] = G[k - K_MIN];
            H_OF[bq] = q + F[k - K_MIN] + 33;
        }
    }

    private FloatText() {
    }

    /** floor(q * log10(2)), exact for |q| <= 5456 (checked for every float exponent by the tests). */
    static int floorLog10Pow2(int q) {
        return (int) (q * 661_971_961_083L >> 41);
    }

    /** floor(log10(3/4 * 2^q)), exact over the same range. */
    static int floorLog10ThreeQuartersPow2(int q) {
        return (int) (q * 661_971_961_083L - 274_743_187_321L >> 41);
    }

    /**
     * Writes {@code v}'s text at {@code out[pos]} and returns the position after it; {@code out} must have
     * {@link #MAX_LENGTH} bytes from {@code pos}.
     *
     * @throws IllegalArgumentException for NaN and the infinities (JSON has no number for them)
     */
    static int write(float v, byte[] out, int pos) {
        return writeBits(Float.floatToRawIntBits(v), out, pos);
    }

    /** {@link #write} for the float whose raw bits are {@code bits} (as a little-endian tensor holds them). */
    static int writeBits(int bits, byte[] out, int pos) {
        int t = bits & 0x7F_FFFF;
        int bq = (bits >>> 23) & 0xFF;
        if (bq == 0xFF) {
            throw new IllegalArgumentException("not a finite float: " + Float.intBitsToFloat(bits));
        }
        // written always and kept only for negatives: a branch here is mispredicted on half of real outputs
        out[pos] = '-';
        pos += bits >>> 31;
        if (bq != 0) {
            int mq = 150 - bq;
            int c = C_MIN | t;
            if (0 < mq && mq < 24) {
                int integer = c >> mq;
                if (integer << mq == c) {
                    return text(integer, 0, out, pos);
                }
            }
            if (t != 0) {
                return text((int) decimal(G_OF[bq], H_OF[bq], c, 2), K_OF[bq], out, pos);
            }
            return toDecimal(-mq, c, 0, out, pos);
        }
        if (t != 0) {
            return t < C_TINY ? toDecimal(Q_MIN, 10 * t, -1, out, pos) : toDecimal(Q_MIN, t, 0, out, pos);
        }
        out[pos] = '0';
        out[pos + 1] = '.';
        out[pos + 2] = '0';
        return pos + 3;
    }

    /**
     * Writes the texts of the four floats whose raw bits are {@code b1} to {@code b4}, a comma between each two,
     * and returns the position after them; {@code out} must have {@code 4 * MAX_LENGTH + 3} bytes from
     * {@code pos}. The same text as four {@link #writeBits} calls, but the four floats' steps are interleaved:
     * each float's work is a chain of dependent multiplications, and a core runs the others' steps while it
     * waits on one's. With the per-exponent tables, 0.69x the time per float of the writer before them (24.5-24.8
     * -> 16.9-17.1 ns, synthetic 6,144-float answers, one core; JMH encodeJson large 0.67x;
     * benchmarks/results/float-text-four-20261203.txt).
     *
     * @throws IllegalArgumentException for NaN and the infinities
     */
    static int writeFour(int b1, int b2, int b3, int b4, byte[] out, int pos) {
        int q1 = (b1 >>> 23) & 0xFF;
        int q2 = (b2 >>> 23) & 0xFF;
        int q3 = (b3 >>> 23) & 0xFF;
        int q4 = (b4 >>> 23) & 0xFF;
        int t1 = b1 & 0x7F_FFFF;
        int t2 = b2 & 0x7F_FFFF;
        int t3 = b3 & 0x7F_FFFF;
        int t4 = b4 & 0x7F_FFFF;
        // Interleaved when all four are normal, not a power of two (whose rounding interval is narrower below)
        // and not a whole number that writeBits writes from the integer itself (shorter work than decimal's
        // digits, which for 100.0 are nine and take layout's loop; the text is the same, as the exhaustive test
        // found when fee1435 interleaved them): nearly all of a model's outputs.
        if ((q1 - 1 | q2 - 1 | q3 - 1 | q4 - 1 | 254 - q1 | 254 - q2 | 254 - q3 | 254 - q4) < 0
                || t1 == 0 || t2 == 0 || t3 == 0 || t4 == 0
                || whole(q1, t1) || whole(q2, t2) || whole(q3, t3) || whole(q4, t4)) {
            pos = writeBits(b1, out, pos);
            out[pos] = ',';
            pos = writeBits(b2, out, pos + 1);
            out[pos] = ',';
            pos = writeBits(b3, out, pos + 1);
            out[pos] = ',';
            return writeBits(b4, out, pos + 1);
        }
        int f1 = (int) decimal(G_OF[q1], H_OF[q1], C_MIN | t1, 2);
        int f2 = (int) decimal(G_OF[q2], H_OF[q2], C_MIN | t2, 2);
        int f3 = (int) decimal(G_OF[q3], H_OF[q3], C_MIN | t3, 2);
        int f4 = (int) decimal(G_OF[q4], H_OF[q4], C_MIN | t4, 2);
        int top1 = f1 / 100_000_000;
        int top2 = f2 / 100_000_000;
        int top3 = f3 / 100_000_000;
        int top4 = f4 / 100_000_000;
        long low1 = eightDigits(f1 - top1 * 100_000_000);
        long low2 = eightDigits(f2 - top2 * 100_000_000);
        long low3 = eightDigits(f3 - top3 * 100_000_000);
        long low4 = eightDigits(f4 - top4 * 100_000_000);
        out[pos] = '-';
        pos = place(f1, top1, low1, K_OF[q1], out, pos + (b1 >>> 31));
        out[pos] = ',';
        out[pos + 1] = '-';
        pos = place(f2, top2, low2, K_OF[q2], out, pos + 1 + (b2 >>> 31));
        out[pos] = ',';
        out[pos + 1] = '-';
        pos = place(f3, top3, low3, K_OF[q3], out, pos + 1 + (b3 >>> 31));
        out[pos] = ',';
        out[pos + 1] = '-';
        return place(f4, top4, low4, K_OF[q4], out, pos + 1 + (b4 >>> 31));
    }

    /**
     * Whether the normal float of biased exponent {@code q} and fraction bits {@code t} is one of the whole numbers
     * writeBits writes from the integer (from 2 to below 2^23; q below 128 is a fraction or 1, a power of two).
     */
    private static boolean whole(int q, int t) {
        return q >= 128 && q < 150 && (t & (1 << 150 - q) - 1) == 0;
    }

    /** Subnormals and powers of two: k, g and h computed, not looked up, and the narrower interval below C_MIN. */
    private static int toDecimal(int q, int c, int dk, byte[] buf, int pos) {
        int lower;
        int k;
        if (c != C_MIN || q == Q_MIN) {
            lower = 2;
            k = floorLog10Pow2(q);
        } else {
            lower = 1;
            k = floorLog10ThreeQuartersPow2(q);
        }
        long f = decimal(G[k - K_MIN], q + F[k - K_MIN] + 33, c, lower);
        return text((int) f, k + dk, buf, pos);
    }

    /**
     * The shortest decimal's digits (times 10^k, k the one g was picked for) for c * 2^q, where g = G[k - K_MIN]
     * and h = q + F[k - K_MIN] + 33; {@code lower} is the rounding interval's half-width below v in quarters of
     * 2^q (2, or 1 below a power of two).
     */
    private static long decimal(long g, int h, int c, int lower) {
        int out = c & 1;
        long cb = (long) c << 2;
        long vb = roundToOdd(g, cb << h);
        long vbl = roundToOdd(g, cb - lower << h);
        long vbr = roundToOdd(g, cb + 2 << h);
        long s = vb >> 2;
        long t = s + 1;
        // The choice below is arithmetic, not branches: on real outputs each of its tests goes either way at
        // random, and a mispredicted branch costs more than all of the arithmetic.
        // the multiple of 10^k next to v: s or t when only one lies in R, else the closer (ties to even s)
        long uin = ((s << 2) - vbl - out) >>> 63 ^ 1;
        long win = (vbr - (t << 2) - out) >>> 63 ^ 1;
        long cmp = vb - ((s + t) << 1);
        long up = -cmp >>> 63 | (cmp == 0 ? s & 1 : 0);
        long only = uin ^ win;
        long f = s + (only & win | (only ^ 1) & up);
        // the multiple of 10^(k+1) in R, when R holds one and s has three or more digits
        long sp10 = s / 10 * 10;
        long tp10 = sp10 + 10;
        long upin = ((sp10 << 2) - vbl - out) >>> 63 ^ 1;
        long wpin = (vbr - (tp10 << 2) - out) >>> 63 ^ 1;
        long shorter = (upin ^ wpin) & (99 - s) >>> 63;
        return f + (-shorter & (sp10 + 10 * wpin - f));
    }

    /** The high bits of g * cp / 2^95, with the lowest bit set when any lower bit is (round to odd). */
    private static long roundToOdd(long g, long cp) {
        long x1 = Math.multiplyHigh(g, cp);
        return x1 >>> 31 | (x1 & 0xFFFF_FFFFL) + 0xFFFF_FFFFL >>> 32;
    }

    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** "00000000" as a little-endian long. */
    private static final long ZEROS = 0x3030_3030_3030_3030L;
    /** "0.000000" as a little-endian long. */
    private static final long ZERO_POINT_ZEROS = 0x3030_3030_3030_2E30L;

    /**
     * The eight decimal digits of {@code n} (0 <= n < 10^8, zero-padded) as the byte values 0-9 of a
     * little-endian long, the first digit in the lowest byte. The halves, then quarters, then single digits
     * are split in parallel lanes of the long; each lane's quotient is a multiplication and a shift, exact for
     * the lane's range (x * 10,486 >> 20 = x / 100 for x < 10^4; x * 103 >> 10 = x / 10 for x < 100).
     */
    static long eightDigits(int n) {
        long high = n / 10_000;
        long halves = high | (n - high * 10_000) << 32;
        long hundreds = (halves * 10_486 >>> 20) & 0x0000_007F_0000_007FL;
        long pairs = hundreds | (halves - hundreds * 100) << 16;
        long tens = (pairs * 103 >>> 10) & 0x000F_000F_000F_000FL;
        return tens | (pairs - tens * 10) << 8;
    }

    /** Writes {@code f * 10^e} (f > 0, at most 9 digits) in Float.toString's layout. */
    private static int text(int f, int e, byte[] out, int pos) {
        int top = f / 100_000_000;
        return place(f, top, eightDigits(f - top * 100_000_000), e, out, pos);
    }

    /*
     * place is kept small so that the JIT can inline it into writeFour's four calls: it writes the 0.00ddd layout,
     * most of a model's outputs, and leaves the others to placeWhole. With that split, and writeFour taking outputs
     * of 1 and more too, a float's text took 0.84x the time (17.3 -> 14.6 ns, 49,152 synthetic MiniLM-like floats,
     * one core; benchmarks/results/float-text-inline-20261203.txt).
     */

    /** {@link #text} once f's ninth-from-last digit (top, 0 when f has eight or fewer) and last eight are known. */
    private static int place(int f, int top, long low, int e, byte[] out, int pos) {
        // nine digits (top != 0) or up to eight, told apart without a branch: it goes either way at random
        int nine = (top + 15) >>> 4;
        int lead = (Long.numberOfTrailingZeros(low) >>> 3) & (nine - 1);
        // the decimal exponent of the first digit: e plus the digit count (8 + nine - lead) less one
        int exp = e + 7 + nine - lead;
        if (-3 <= exp && exp < 0) {
            LONGS.set(out, pos, ZERO_POINT_ZEROS);
            int first = pos + 1 - exp;
            out[first] = (byte) ('0' + top);
            LONGS.set(out, first + nine, (low >>> (lead << 3)) + ZEROS);
            return first + 8 + nine - lead - (Long.numberOfLeadingZeros(low) >>> 3);
        }
        return placeWhole(f, top, low, e, nine, lead, out, pos);
    }

    /** {@link #place} for the layouts other than 0.00ddd, with the nine and lead place found. */
    private static int placeWhole(int f, int top, long low, int e, int nine, int lead, byte[] out, int pos) {
        int len = 8 + nine - lead;
        int exp = e + len - 1;
        int significant = len - (Long.numberOfLeadingZeros(low) >>> 3);
        if (top == 0 && 0 <= exp && exp < 7) {
            long digits = (low >>> ((8 - len) << 3)) + ZEROS;
            int whole = exp + 1;
            if (significant <= whole) {
                // the digits, the zeros up to the point (already in the long), then ".0"
                LONGS.set(out, pos, digits);
                out[pos + whole] = '.';
                out[pos + whole + 1] = '0';
                return pos + whole + 2;
            }
            // the whole digits, the point, then the fraction's digits moved one byte up
            int bits = whole << 3;
            LONGS.set(out, pos, digits & (1L << bits) - 1 | (long) '.' << bits | (digits >>> bits << 8) << bits);
            out[pos + 8] = (byte) (digits >>> 56);
            return pos + significant + 1;
        }
        return layout(f, e, out, pos);
    }

    /** {@link #text} for the layouts it does not write itself, a digit pair at a time. */
    private static int layout(int f, int e, byte[] out, int pos) {
        int len = f >= 100_000_000 ? 9 : f >= 10_000_000 ? 8 : f >= 1_000_000 ? 7 : f >= 100_000 ? 6
                : f >= 10_000 ? 5 : f >= 1_000 ? 4 : f >= 100 ? 3 : f >= 10 ? 2 : 1;
        int exp = e + len - 1;
        for (int q = f / 10; f == q * 10; q = f / 10) {
            f = q;
            len--;
        }
        if (0 <= exp && exp < 7) {
            if (len <= exp + 1) {
                pos = digits(f, len, out, pos);
                for (int i = len; i <= exp; i++) {
                    out[pos++] = '0';
                }
                out[pos] = '.';
                out[pos + 1] = '0';
                return pos + 2;
            }
            // the digits one place to the right, then the whole part moved back over the point's place
            digits(f, len, out, pos + 1);
            for (int i = 0; i <= exp; i++) {
                out[pos + i] = out[pos + i + 1];
            }
            out[pos + exp + 1] = '.';
            return pos + len + 1;
        }
        if (-3 <= exp && exp < 0) {
            out[pos++] = '0';
            out[pos++] = '.';
            for (int i = -1; i > exp; i--) {
                out[pos++] = '0';
            }
            return digits(f, len, out, pos);
        }
        digits(f, len, out, pos + 1);
        out[pos] = out[pos + 1];
        out[pos + 1] = '.';
        if (len == 1) {
            out[pos + 2] = '0';
            pos += 3;
        } else {
            pos += len + 1;
        }
        out[pos++] = 'E';
        if (exp < 0) {
            out[pos++] = '-';
            exp = -exp;
        }
        if (exp >= 10) {
            out[pos++] = (byte) ('0' + exp / 10);
        }
        out[pos++] = (byte) ('0' + exp % 10);
        return pos;
    }

    /** Writes {@code n} as exactly {@code count} digits (zero-padded on the left), two at a time. */
    private static int digits(int n, int count, byte[] out, int pos) {
        int i = pos + count;
        for (; i - pos >= 2; i -= 2) {
            int quotient = n / 100;
            int pair = (n - quotient * 100) << 1;
            out[i - 1] = DIGIT_PAIRS[pair + 1];
            out[i - 2] = DIGIT_PAIRS[pair];
            n = quotient;
        }
        if (i > pos) {
            out[pos] = (byte) ('0' + n);
        }
        return pos + count;
    }
}
