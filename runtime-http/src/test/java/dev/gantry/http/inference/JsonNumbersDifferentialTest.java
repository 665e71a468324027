package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.DataType;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JSON tensor reader against the conversion it replaced (Jackson's getFloatValue / getDoubleValue, with the
 * codec's parser features), bit for bit, over edge cases and random numbers in many textual forms.
 */
class JsonNumbersDifferentialTest {
    /** The codec's parser features that bear on number conversion (OipCodec's factory). */
    private static final JsonFactory REFERENCE = JsonFactory.builder()
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();
    private static final MathContext NINE_DIGITS = new MathContext(9);
    private static final MathContext SIXTEEN_DIGITS = new MathContext(16);
    private static final MathContext SEVENTEEN_DIGITS = new MathContext(17);

    private final OipCodec codec = new OipCodec(CodecLimits.defaults());

    private static final List<String> EDGE_CASES = List.of(
            "0", "-0", "0.0", "-0.0", "0e10", "-0e-10", "0E+0", "0.000", "-0.0e-400", "0e400",
            "16777216", "16777217", "16777217.0", "1.6777217e7", "16777219.0", "33554434.0", "-3.3554434E+7",
            "16777217.000000001", "16777216.999999999",
            "1.00000005960464477539", "1.000000059604644775390625", "1.0000000596046448", "1.00000005960464478",
            "1.000000059604644775390626", "1.000000059604644775390624",
            "3.4028235e38", "3.4028234663852886e38", "3.40282356779733661637539395458142568447e38",
            "-3.4028235E38", "3.4028236e38", "3.5e38", "1e39",
            "1.17549435E-38", "1.1754942E-38", "1.4e-45", "1e-45", "7e-46", "7.1e-46", "2.5e-45", "1e-46",
            "1e-50", "4.9e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400",
            "2.2250738585072014E-308", "2.2250738585072011e-308", "1.7976931348623157e308",
            "1.7976931348623159e308", "1e308", "1e309", "1e400", "-1e400", "1e9999999999", "1e-9999999999",
            "9007199254740992", "9007199254740993", "9007199254740993.0", "9007199254740994", "9.007199254740993e15",
            "1e22", "1e23", "1e-22", "1e-23", "1E22", "10e21", "0.1e23", "100000000000000000000000",
            "1E-7", "1e5", "0.1e+2", "1.5E+3", "12E-1", "0.30000000000000004", "0.1", "0.2", "0.3", "0.7",
            "123456789012345678", "999999999999999999", "1000000000000000000", "1234567890123456789",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
            "12345678901234567890123", "-12345678901234567890123456789",
            "0.000000000000000000000000000000000000000000001", "1.000000000000000000000000000000000001",
            "3.141592653589793238462643383279502884197", "2.718281828459045", "6.02214076e23", "1.602176634e-19");

    private static String request(DataType type, List<String> values) {
        StringBuilder b = new StringBuilder(values.size() * 16 + 100)
                .append("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"").append(type)
                .append("\",\"shape\":[").append(values.size()).append("],\"data\":[");
        for (int i = 0; i < values.size(); i++) {
            b.append(i == 0 ? "" : ",").append(values.get(i));
        }
        return b.append("]}]}").toString();
    }

    private ByteBuffer decode(DataType type, List<String> values) {
        return codec.decodeRequest(Buffer.buffer(request(type, values)), OptionalLong.empty())
                .request().inputs().getFirst().data();
    }

    /** What the reader returned before: the parser's own conversion of each number token, as raw bits. */
    private static long[] reference(DataType type, List<String> values) {
        long[] out = new long[values.size()];
        try (JsonParser p = REFERENCE.createParser("[" + String.join(",", values) + "]")) {
            p.nextToken();
            for (int i = 0; i < out.length; i++) {
                JsonToken t = p.nextToken();
                assertTrue(t.isNumeric(), values.get(i));
                out[i] = switch (type) {
                    case FP16 -> Float.floatToFloat16(p.getFloatValue());
                    case FP32 -> Float.floatToRawIntBits(p.getFloatValue());
                    case FP64 -> Double.doubleToRawLongBits(p.getDoubleValue());
                    default -> throw new IllegalArgumentException(type.toString());
                };
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static boolean finite(DataType type, long bits) {
        return switch (type) {
            case FP16 -> Float.isFinite(Float.float16ToFloat((short) bits));
            case FP32 -> Float.isFinite(Float.intBitsToFloat((int) bits));
            default -> Double.isFinite(Double.longBitsToDouble(bits));
        };
    }

    private static long bitsAt(DataType type, ByteBuffer data, int i) {
        return switch (type) {
            case FP16 -> data.getShort(2 * i);
            case FP32 -> data.getInt(4 * i);
            default -> data.getLong(8 * i);
        };
    }

    /**
     * Decodes {@code values} (those the reference converts to a finite value) in one request and compares each
     * element's bits with the reference; returns how many were compared.
     */
    private int assertSameBits(DataType type, List<String> values) {
        long[] all = reference(type, values);
        List<String> kept = new ArrayList<>(values.size());
        List<Long> expected = new ArrayList<>(values.size());
        for (int i = 0; i < all.length; i++) {
            if (finite(type, all[i])) {
                kept.add(values.get(i));
                expected.add(all[i]);
            }
        }
        ByteBuffer data = decode(type, kept);
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) {
            long actual = bitsAt(type, data, i);
            if (actual != expected.get(i) && differences.size() < 20) {
                differences.add(kept.get(i) + ": expected bits " + Long.toHexString(expected.get(i)) + ", got "
                        + Long.toHexString(actual));
            }
        }
        assertEquals(List.of(), differences, type + " values that decode differently from the parser's conversion");
        return kept.size();
    }

    @Test
    void edgeCases_decodeToTheParsersBits_forEveryFloatType() {
        for (DataType type : List.of(DataType.FP16, DataType.FP32, DataType.FP64)) {
            assertTrue(assertSameBits(type, EDGE_CASES) > EDGE_CASES.size() / 2);
        }
    }

    @Test
    void edgeCasesTheParserTakesToInfinity_areRefusedAsOutOfRange() {
        for (DataType type : List.of(DataType.FP16, DataType.FP32, DataType.FP64)) {
            long[] bits = reference(type, EDGE_CASES);
            for (int i = 0; i < bits.length; i++) {
                if (!finite(type, bits[i])) {
                    String text = EDGE_CASES.get(i);
                    GantryException e = assertThrows(GantryException.class, () -> decode(type, List.of(text)));
                    assertTrue(e.getMessage().startsWith("input 'x' element 0: " + text + " is out of range for "
                            + type), e.getMessage());
                }
            }
        }
    }

    @Test
    void negativeZero_keepsItsSignOnlyAsADecimal_asTheParserGaveIt() {
        ByteBuffer data = decode(DataType.FP32, List.of("-0", "-0.0", "-0e0"));

        assertEquals(0, data.getInt(0), "the integer token -0 is the int 0, hence +0.0");
        assertEquals(Float.floatToRawIntBits(-0.0f), data.getInt(4));
        assertEquals(Float.floatToRawIntBits(-0.0f), data.getInt(8));
    }

    @Test
    void decimalsWhoseDoubleIsAFloatMidpoint_decodeToTheParsersBits() {
        SplittableRandom random = new SplittableRandom(16);
        List<String> midpoints = new ArrayList<>();
        while (midpoints.size() < 2_000) {
            float f = (float) (random.nextDouble(1e-6, 1e6));
            double midpoint = ((double) f + (double) Math.nextUp(f)) / 2;
            String text = new BigDecimal(midpoint).round(SIXTEEN_DIGITS).toString();
            char[] chars = text.toCharArray();
            if (JsonNumbers.toDouble(chars, 0, chars.length) == midpoint) {
                assertTrue(Float.isNaN(JsonNumbers.toFloat(chars, 0, chars.length)), text);
                midpoints.add(random.nextBoolean() ? text : "-" + text);
            }
        }
        assertEquals(midpoints.size(), assertSameBits(DataType.FP32, midpoints));
    }

    @Test
    void randomFloats_inShortestNineAndSeventeenDigitForms_decodeToTheParsersBits() {
        SplittableRandom random = new SplittableRandom(32);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
            float f = randomFloat(random);
            values.add(Float.toString(f));
            values.add(new BigDecimal(f).round(NINE_DIGITS).toString());
            values.add(new BigDecimal(f).round(SEVENTEEN_DIGITS).toString());
            values.add(reshaped(random, Float.toString(f)));
        }
        int fast = countFast(values, text -> !Float.isNaN(JsonNumbers.toFloat(text, 0, text.length)));
        assertTrue(fast > values.size() / 4, "only " + fast + " of " + values.size() + " took the fast path");
        for (DataType type : List.of(DataType.FP32, DataType.FP16)) {
            assertTrue(assertSameBits(type, values) > values.size() / 2);
        }
    }

    @Test
    void randomDoubles_inShortestAndFifteenToSeventeenDigitForms_decodeToTheParsersBits() {
        SplittableRandom random = new SplittableRandom(64);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 30_000; i++) {
            double d = random.nextInt(4) == 0
                    ? Double.longBitsToDouble(random.nextLong())
                    : random.nextDouble(-1e6, 1e6) * Math.pow(10, random.nextInt(-20, 12));
            if (!Double.isFinite(d)) {
                continue;
            }
            values.add(Double.toString(d));
            values.add(new BigDecimal(d).round(new MathContext(random.nextInt(15, 18))).toString());
            values.add(reshaped(random, Double.toString(d)));
        }
        int fast = countFast(values, text -> !Double.isNaN(JsonNumbers.toDouble(text, 0, text.length)));
        assertTrue(fast > values.size() / 4, "only " + fast + " of " + values.size() + " took the fast path");
        assertTrue(assertSameBits(DataType.FP64, values) > values.size() / 2);
    }

    @Test
    void randomIntegers_decodeToTheParsersBits_asFloatsAndDoubles() {
        SplittableRandom random = new SplittableRandom(128);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            long v = random.nextLong() >> random.nextInt(64);
            values.add(Long.toString(v));
            if (v != 0) {
                values.add(v + Integer.toString(random.nextInt(1_000_000)));
            }
        }
        for (DataType type : List.of(DataType.FP16, DataType.FP32, DataType.FP64)) {
            assertSameBits(type, values);
        }
    }

    @Test
    void randomIntegers_decodeToTheirValues_asInt64AndUint64() {
        SplittableRandom random = new SplittableRandom(256);
        List<String> signed = new ArrayList<>();
        List<String> unsigned = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            long v = random.nextLong() >> random.nextInt(64);
            signed.add(Long.toString(v));
            unsigned.add(Long.toUnsignedString(v));
        }
        ByteBuffer int64 = decode(DataType.INT64, signed);
        ByteBuffer uint64 = decode(DataType.UINT64, unsigned);
        for (int i = 0; i < signed.size(); i++) {
            assertEquals(Long.parseLong(signed.get(i)), int64.getLong(8 * i), signed.get(i));
            assertEquals(Long.parseUnsignedLong(unsigned.get(i)), uint64.getLong(8 * i), unsigned.get(i));
        }
    }

    /**
     * Off CI: {@code mvn -B -o -pl runtime-http -am test -Dtest=JsonNumbersDifferentialTest#sweep
     * -Dsurefire.failIfNoSpecifiedTests=false -Dgantry.numberSweep=100000000} compares that many random floats
     * (all finite bit patterns and values in [-1e6, 1e6]), each in its shortest and a 9-digit form.
     */
    @Test
    @EnabledIfSystemProperty(named = "gantry.numberSweep", matches = "\\d+")
    void sweep() {
        long total = Long.parseLong(System.getProperty("gantry.numberSweep"));
        SplittableRandom random = new SplittableRandom(System.nanoTime());
        long compared = 0;
        for (long done = 0; done < total; ) {
            List<String> values = new ArrayList<>(200_000);
            for (int i = 0; i < 100_000 && done < total; i++, done++) {
                float f = randomFloat(random);
                values.add(Float.toString(f));
                values.add(nineDigits(f));
            }
            compared += assertSameBits(DataType.FP32, values);
        }
        System.out.println("sweep: " + total + " floats, " + compared + " finite texts compared bit for bit");
    }

    private static float randomFloat(SplittableRandom random) {
        return switch (random.nextInt(3)) {
            case 0 -> {
                float f;
                do {
                    f = Float.intBitsToFloat(random.nextInt());
                } while (!Float.isFinite(f));
                yield f;
            }
            case 1 -> (float) random.nextDouble(-1e6, 1e6);
            default -> (float) random.nextDouble(-1, 1);
        };
    }

    /** About nine significant digits of {@code f}, as an integer mantissa and a decimal exponent. */
    private static String nineDigits(float f) {
        if (f == 0) {
            return "0.0";
        }
        int exponent = (int) Math.floor(Math.log10(Math.abs(f))) - 8;
        double scaled = exponent >= 0 ? f / Math.pow(10, exponent) : f * Math.pow(10, -exponent);
        return Math.round(scaled) + "e" + exponent;
    }

    /** The same number written another way: plain, integer mantissa, lower-case e, explicit + or leading zeros. */
    private static String reshaped(SplittableRandom random, String text) {
        BigDecimal d = new BigDecimal(text);
        return switch (random.nextInt(5)) {
            case 0 -> d.abs().compareTo(new BigDecimal("1e30")) < 0 && d.abs().compareTo(new BigDecimal("1e-30")) > 0
                    ? d.toPlainString() : d.toString();
            case 1 -> d.unscaledValue() + "e" + (-d.scale());
            case 2 -> d.unscaledValue() + (d.scale() <= 0 ? "E+" : "E") + (-d.scale());
            case 3 -> d.toString().toLowerCase();
            default -> d.unscaledValue() + "0e" + (-d.scale() - 1);
        };
    }

    private static int countFast(List<String> values, Function<char[], Boolean> fast) {
        int n = 0;
        for (String v : values) {
            if (fast.apply(v.toCharArray())) {
                n++;
            }
        }
        return n;
    }
}
