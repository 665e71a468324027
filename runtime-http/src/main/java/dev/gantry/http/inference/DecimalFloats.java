package dev.gantry.http.inference;

/** Correctly rounded FP32 values of short JSON decimals, without a general-purpose parser for the common case. */
final class DecimalFloats {
    /*
     * The fast path (Clinger, "How to read floating point numbers accurately", 1990). A decimal with at most 15
     * significant digits is a significand below 2^53 and a power of ten; with the exponent within +-22 both are
     * exact doubles, so one IEEE multiplication or division gives d, the correctly rounded double of the
     * decimal. Rounding d to float gives the correctly rounded float of the decimal unless d lies exactly
     * halfway between two floats: every such midpoint is itself a double, so a correctly rounded d can only be
     * on the wrong side of one by landing on it. Midpoints, zeros' signs aside everything outside the normal
     * float range, long significands and large exponents return NaN, and the caller uses Jackson's parser
     * (correctly rounded too): both paths give the same float for every input.
     *
     * Why: in the profile of the 64-float MLP request, parsing numbers was the largest block of the decode
     * (8.5% of the event loop), and the fast parser bundled with jackson-core 2.18 allocates a heap
     * MemorySegment for every number (10% of all allocation).
     */
    private static final double[] POW10 = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    private static final int MAX_DIGITS = 15;
    private static final int MAX_EXPONENT = 22;
    /** The double fraction bits below a float's 23: exactly halfway between two floats. */
    private static final long BELOW_FLOAT_MASK = (1L << 29) - 1;
    private static final long HALFWAY = 1L << 28;

    private DecimalFloats() {
    }

    /**
     * The float nearest to the JSON number in {@code text[offset, offset + length)}, or NaN when this fast
     * path does not decide it (the caller then parses it the general way). A JSON number is never NaN.
     */
    static float parse(char[] text, int offset, int length) {
        int i = offset;
        int end = offset + length;
        boolean negative = i < end && text[i] == '-';
        if (negative) {
            i++;
        }
        long significand = 0;
        int digits = 0;
        int exponent = 0;
        boolean any = false;
        for (; i < end; i++) {
            int d = text[i] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            any = true;
            if (significand == 0 && d == 0) {
                continue;
            }
            if (++digits > MAX_DIGITS) {
                return Float.NaN;
            }
            significand = significand * 10 + d;
        }
        if (i < end && text[i] == '.') {
            for (i++; i < end; i++) {
                int d = text[i] - '0';
                if (d < 0 || d > 9) {
                    break;
                }
                any = true;
                exponent--;
                if (significand == 0 && d == 0) {
                    continue;
                }
                if (++digits > MAX_DIGITS) {
                    return Float.NaN;
                }
                significand = significand * 10 + d;
            }
        }
        if (!any) {
            return Float.NaN;
        }
        if (i < end && (text[i] == 'e' || text[i] == 'E')) {
            i++;
            boolean negativeExponent = i < end && text[i] == '-';
            if (i < end && (text[i] == '-' || text[i] == '+')) {
                i++;
            }
            int e = 0;
            int exponentDigits = 0;
            for (; i < end; i++) {
                int d = text[i] - '0';
                if (d < 0 || d > 9) {
                    break;
                }
                exponentDigits++;
                if (e < 10_000) {
                    e = e * 10 + d;
                }
            }
            if (exponentDigits == 0) {
                return Float.NaN;
            }
            exponent += negativeExponent ? -e : e;
        }
        if (i != end) {
            return Float.NaN;
        }
        if (significand == 0) {
            return negative ? -0.0f : 0.0f;
        }
        if (exponent < -MAX_EXPONENT || exponent > MAX_EXPONENT) {
            return Float.NaN;
        }
        double d = exponent < 0 ? significand / POW10[-exponent] : significand * POW10[exponent];
        if (d < Float.MIN_NORMAL || d > Float.MAX_VALUE
                || (Double.doubleToRawLongBits(d) & BELOW_FLOAT_MASK) == HALFWAY) {
            return Float.NaN;
        }
        float f = (float) d;
        return negative ? -f : f;
    }
}
