package dev.gantry.http.inference;

/**
 * Converts the text of a JSON number token to a tensor element on a fast path, or reports that it cannot and the
 * caller must use the parser's own conversion.
 */
final class JsonNumbers {
    /*
     * The fast path covers what clients send in practice: short decimals such as 0.123456 or 1.5E-3 and plain
     * integers. Everything else returns a sentinel and the caller falls back to Jackson's getFloatValue,
     * getDoubleValue or getLongValue, so the result is the one the parser gives for every input, not merely an
     * equally correct one.
     *
     * Doubles (Clinger's fast path): a decimal m x 10^e with m <= 2^53 and |e| <= 22 has m and 10^|e| exactly
     * representable as doubles, so one IEEE multiplication or division rounds the exact value once: the result
     * is the correctly rounded double, which is what Jackson's parser (and Double.parseDouble) return.
     *
     * Floats with m <= 2^24 and |e| <= 10 take the same path in float arithmetic: m and 10^|e| (5^10 < 2^24) are
     * exact floats, so one float operation gives the correctly rounded float directly.
     *
     * Other floats: rounding the exact value x first to that double d and then to float is correct unless d lies
     * on a midpoint between two adjacent floats. Float midpoints are doubles, so rounding x to the nearest double
     * cannot carry it across one; only when d lands exactly on one can the second rounding go the wrong way
     * (x might have been just above or below). Those d are recognised by their low 29 significand bits (the
     * bits a float drops) being exactly 1 followed by 28 zeros, and fall back. The fast path's values lie in
     * [1e-22, 2^53 x 1e22], inside float's normal range, so neither subnormal floats nor overflow arise; the
     * range is still checked, for safety.
     *
     * Integer tokens of up to 18 digits cannot overflow a long; Jackson converts them to float or double from
     * the int or long it parses (so "-0" gives +0.0), and so does this. Longer integers fall back.
     *
     * The grammar accepted is JSON's: -?digits(.digits)?([eE][+-]?digits)?; anything else (which the parser's
     * configuration would have rejected already) falls back too.
     */

    /** The result of {@link #toLong} when the text is not an integer of at most 18 digits. */
    static final long NOT_FAST = Long.MIN_VALUE;

    /** The most significant digits a fast-path number may have: 10^18 fits a long. */
    static final int MAX_DIGITS = 18;
    private static final long MAX_EXACT_MANTISSA = 1L << 53;
    private static final int MAX_EXACT_POWER = 22;
    private static final double[] POWERS_OF_TEN = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    private static final long MAX_EXACT_FLOAT_MANTISSA = 1L << 24;
    private static final int MAX_EXACT_FLOAT_POWER = 10;
    private static final float[] FLOAT_POWERS_OF_TEN = {
        1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f,
    };
    private static final long FLOAT_DROPPED_BITS = (1L << 29) - 1;
    private static final long FLOAT_MIDPOINT = 1L << 28;
    private static final int FLOAT_MIN_NORMAL_EXPONENT = Double.MAX_EXPONENT + Float.MIN_EXPONENT;
    private static final int FLOAT_MAX_EXPONENT = Double.MAX_EXPONENT + Float.MAX_EXPONENT;

    private JsonNumbers() {
    }

    /** The integer {@code -?[0-9]{1,18}} in {@code text[offset, offset + length)}, or {@link #NOT_FAST}. */
    static long toLong(char[] text, int offset, int length) {
        int i = offset;
        int end = offset + length;
        boolean negative = i < end && text[i] == '-';
        if (negative) {
            i++;
        }
        int digits = end - i;
        if (digits < 1 || digits > MAX_DIGITS) {
            return NOT_FAST;
        }
        long value = 0;
        for (; i < end; i++) {
            int d = text[i] - '0';
            if (d < 0 || d > 9) {
                return NOT_FAST;
            }
            value = value * 10 + d;
        }
        return negative ? -value : value;
    }

    /**
     * The correctly rounded double of the JSON number in {@code text[offset, offset + length)}, or NaN when it is
     * outside the fast path (NaN is never the value of a JSON number).
     */
    static double toDouble(char[] text, int offset, int length) {
        int i = offset;
        int end = offset + length;
        boolean negative = i < end && text[i] == '-';
        if (negative) {
            i++;
        }
        long mantissa = 0;
        int digits = 0;
        int exponent = 0;
        int start = i;
        for (; i < end; i++) {
            int d = text[i] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            if (mantissa != 0 || d != 0) {
                if (++digits > MAX_DIGITS) {
                    return Double.NaN;
                }
                mantissa = mantissa * 10 + d;
            }
        }
        if (i == start) {
            return Double.NaN;
        }
        if (i < end && text[i] == '.') {
            start = ++i;
            for (; i < end; i++) {
                int d = text[i] - '0';
                if (d < 0 || d > 9) {
                    break;
                }
                if (mantissa != 0 || d != 0) {
                    if (++digits > MAX_DIGITS) {
                        return Double.NaN;
                    }
                    mantissa = mantissa * 10 + d;
                }
                exponent--;
            }
            if (i == start) {
                return Double.NaN;
            }
        }
        if (i < end && (text[i] == 'e' || text[i] == 'E')) {
            i++;
            boolean negativeExponent = false;
            if (i < end && (text[i] == '+' || text[i] == '-')) {
                negativeExponent = text[i] == '-';
                i++;
            }
            start = i;
            int written = 0;
            for (; i < end; i++) {
                int d = text[i] - '0';
                if (d < 0 || d > 9) {
                    return Double.NaN;
                }
                if (written < 10_000) {
                    written = written * 10 + d;
                }
            }
            if (i == start) {
                return Double.NaN;
            }
            exponent += negativeExponent ? -written : written;
        }
        if (i != end) {
            return Double.NaN;
        }
        return toDouble(negative, mantissa, exponent);
    }

    /**
     * The correctly rounded double of {@code (negative ? -1 : 1) x mantissa x 10^exponent}, or NaN when that is
     * outside the fast path (the mantissa above 2^53 or the exponent outside [-22, 22]).
     */
    static double toDouble(boolean negative, long mantissa, int exponent) {
        if (mantissa > MAX_EXACT_MANTISSA || exponent < -MAX_EXACT_POWER || exponent > MAX_EXACT_POWER) {
            return Double.NaN;
        }
        double value = exponent >= 0
                ? (double) mantissa * POWERS_OF_TEN[exponent]
                : (double) mantissa / POWERS_OF_TEN[-exponent];
        return negative ? -value : value;
    }

    /**
     * The correctly rounded float of the JSON number in {@code text[offset, offset + length)}, or NaN when it is
     * outside the fast path.
     */
    static float toFloat(char[] text, int offset, int length) {
        return toFloat(toDouble(text, offset, length));
    }

    /**
     * The correctly rounded float of {@code (negative ? -1 : 1) x mantissa x 10^exponent}, or NaN when that is
     * outside the fast path.
     */
    static float toFloat(boolean negative, long mantissa, int exponent) {
        if (mantissa <= MAX_EXACT_FLOAT_MANTISSA && exponent >= -MAX_EXACT_FLOAT_POWER
                && exponent <= MAX_EXACT_FLOAT_POWER) {
            float value = exponent >= 0
                    ? (float) mantissa * FLOAT_POWERS_OF_TEN[exponent]
                    : (float) mantissa / FLOAT_POWERS_OF_TEN[-exponent];
            return negative ? -value : value;
        }
        return toFloat(toDouble(negative, mantissa, exponent));
    }

    /**
     * The float that a decimal rounds to, given {@code value}, that decimal correctly rounded to a double by
     * {@link #toDouble}; NaN when the second rounding could differ from rounding the decimal itself.
     */
    static float toFloat(double value) {
        if (value != value || value == 0) {
            return (float) value;
        }
        long bits = Double.doubleToRawLongBits(value);
        int exponent = (int) (bits >>> 52) & 0x7FF;
        if ((bits & FLOAT_DROPPED_BITS) == FLOAT_MIDPOINT
                || exponent < FLOAT_MIN_NORMAL_EXPONENT || exponent > FLOAT_MAX_EXPONENT) {
            return Float.NaN;
        }
        return (float) value;
    }
}
