package dev.gantry.http.inference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FP32 fast path agrees with the JDK's correctly rounded parser on every number it decides. */
class DecimalFloatsTest {
    private static final int SAMPLES = 200_000;

    @ParameterizedTest
    @ValueSource(strings = {"0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.1234567", "-0.13081054", "3.4028235e38",
            "1e-22", "1.5e10", "123456789012345", "0.000001", "1E5", "2.5e+3", "-7.0E-3", "16777217", "1.00000017881393432"})
    void parse_ofAJsonNumber_isTheCorrectlyRoundedFloatOrDeclines(String number) {
        assertAgrees(number);
    }

    @Test
    void parse_ofShortestFloatStrings_agreesWithTheJdkAndDecidesMostOfThem() {
        SplittableRandom random = new SplittableRandom(16);
        int decided = 0;
        for (int i = 0; i < SAMPLES; i++) {
            float f = (float) (random.nextDouble() * 2 - 1) * (float) Math.pow(10, random.nextInt(-6, 7));
            if (assertAgrees(Float.toString(f))) {
                decided++;
            }
        }
        assertTrue(decided > SAMPLES * 9 / 10, "decided " + decided + " of " + SAMPLES);
    }

    @Test
    void parse_ofRandomDecimals_agreesWithTheJdk() {
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < SAMPLES; i++) {
            long significand = random.nextLong(1, 1_000_000_000_000_000L) / (long) Math.pow(10, random.nextInt(0, 15));
            int exponent = random.nextInt(-30, 30);
            assertAgrees(String.format(Locale.ROOT, "%s%de%d", random.nextBoolean() ? "-" : "", significand,
                    exponent));
        }
    }

    @Test
    void parse_ofFloatMidpoints_declinesOrAgrees() {
        // Decimals exactly halfway between two floats: the double-rounding trap.
        SplittableRandom random = new SplittableRandom(18);
        for (int i = 0; i < 10_000; i++) {
            float f = (float) random.nextDouble(1, 1 << 20);
            double midpoint = ((double) f + (double) Math.nextUp(f)) / 2;
            assertAgrees(new java.math.BigDecimal(midpoint).toPlainString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", ".", "1e", "1e+", "abc", "1.2.3"})
    void parse_ofSomethingElse_declines(String text) {
        assertTrue(Float.isNaN(DecimalFloats.parse(text.toCharArray(), 0, text.length())), text);
    }

    /** Whether the fast path decided {@code number}; fails when it decided it differently from the JDK. */
    private static boolean assertAgrees(String number) {
        char[] padded = ("[" + number + "]").toCharArray();
        float fast = DecimalFloats.parse(padded, 1, number.length());
        if (Float.isNaN(fast)) {
            return false;
        }
        assertEquals(Float.floatToRawIntBits(Float.parseFloat(number)), Float.floatToRawIntBits(fast), number);
        return true;
    }
}
