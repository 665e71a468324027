package dev.gantry.http.inference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which number texts JsonNumbers converts itself, and which it leaves to the parser. */
class JsonNumbersTest {
    private static double toDouble(String text) {
        return JsonNumbers.toDouble(text.toCharArray(), 0, text.length());
    }

    private static float toFloat(String text) {
        return JsonNumbers.toFloat(text.toCharArray(), 0, text.length());
    }

    private static long toLong(String text) {
        return JsonNumbers.toLong(text.toCharArray(), 0, text.length());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.123456", "-1.5", "1E-7", "1e5", "0.1e+2", "3.4028235E20", "1.17549435E-14",
        "9007199254740992", "123.456e-19", "0.000001", "-0.0", "1e22", "1e-22", "0.3000000000000001"})
    void shortDecimals_takeTheFastPath_withTheCorrectlyRoundedValue(String text) {
        assertEquals(Double.doubleToRawLongBits(Double.parseDouble(text)), Double.doubleToRawLongBits(toDouble(text)));
        assertEquals(Float.floatToRawIntBits(Float.parseFloat(text)), Float.floatToRawIntBits(toFloat(text)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"9007199254740993", "12345678901234567890", "1e23", "1e-23", "1.00000005960464477539",
        "1.4e-45", "1e39", "1e400", "4.9e-324", "1e99999999999999", "0e23", "0.30000000000000004",
        "3.4028235E38"})
    void longMantissasAndLargeExponents_areLeftToTheParser(String text) {
        assertTrue(Double.isNaN(toDouble(text)), text);
        assertTrue(Float.isNaN(toFloat(text)), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"16777217.0", "1.6777217e7", "16777219.0", "33554434.0", "-3.3554434E+7"})
    void doublesOnAFloatMidpoint_areLeftToTheParser(String text) {
        assertEquals(Double.parseDouble(text), toDouble(text), text + " is on the fast path as a double");
        assertTrue(Float.isNaN(toFloat(text)), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "1.5x", "0x10", "1..2"})
    void textOutsideJsonsNumberGrammar_isLeftToTheParser(String text) {
        assertTrue(Double.isNaN(toDouble(text)), text);
        assertEquals(JsonNumbers.NOT_FAST, toLong(text), text);
    }

    @Test
    void integersOfUpTo18Digits_areConverted_longerOnesAreNot() {
        assertEquals(999_999_999_999_999_999L, toLong("999999999999999999"));
        assertEquals(-999_999_999_999_999_999L, toLong("-999999999999999999"));
        assertEquals(0L, toLong("-0"));
        assertEquals(JsonNumbers.NOT_FAST, toLong("1000000000000000000"));
        assertEquals(JsonNumbers.NOT_FAST, toLong("1.0"));
    }

    @Test
    void textIsReadOnlyWithinItsWindow() {
        char[] window = "[12.5,7]".toCharArray();

        assertEquals(12.5, JsonNumbers.toDouble(window, 1, 4));
        assertEquals(7L, JsonNumbers.toLong(window, 6, 1));
    }

    @Test
    void decimalParts_giveTheCorrectlyRoundedFloat_onTheFloatAndTheDoublePath() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(24);
        for (int i = 0; i < 200_000; i++) {
            // mantissas on both sides of 2^24 and exponents on both sides of +-10: both paths, and their edges
            long mantissa = random.nextBoolean() ? random.nextLong(1L << 25) : random.nextLong(1L << 53);
            int exponent = random.nextInt(-22, 23);
            boolean negative = random.nextBoolean();
            float fast = JsonNumbers.toFloat(negative, mantissa, exponent);
            if (fast != fast) {
                continue; // a double on a float midpoint: left to the parser
            }
            String text = (negative ? "-" : "") + mantissa + "e" + exponent;
            assertEquals(Float.floatToRawIntBits(Float.parseFloat(text)), Float.floatToRawIntBits(fast), text);
        }
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(JsonNumbers.toFloat(true, 0, -3)));
        assertEquals(16777216f, JsonNumbers.toFloat(false, 1L << 24, 0));
        assertEquals(16777218f, JsonNumbers.toFloat(false, (1L << 24) + 2, 0));
        assertTrue(Float.isNaN(JsonNumbers.toFloat(false, (1L << 24) + 1, 0)), "a midpoint is left to the parser");
    }
}
