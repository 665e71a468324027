package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.Tensor;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The plain reader takes the common request shape and declines everything else; either way a request decodes to
 * exactly what the full reader gives it, or fails with exactly the full reader's message.
 */
class PlainRequestReaderTest {
    private static final CodecLimits LIMITS = CodecLimits.defaults();
    private static final OipCodec WITH_PLAIN = new OipCodec(LIMITS, /* plainReader= */ true);
    private static final OipCodec FULL_ONLY = new OipCodec(LIMITS, /* plainReader= */ false);

    private static final String MLP = "{\"inputs\": [{\"name\": \"features\", \"shape\": [1, 4], \"datatype\": "
            + "\"FP32\", \"data\": [-0.3523345, 0.0148715, 1.5E-3, 2]}]}";
    private static final String TWO_INPUTS = " {\"id\":\"req-7\",\"inputs\":[\n"
            + "  {\"datatype\":\"FP32\",\"name\":\"a\",\"shape\":[2,2],\"data\":[1,-0,0.5e1,-1.25E+2]},\n"
            + "  {\"shape\":[],\"datatype\":\"FP32\",\"name\":\"b\",\"data\":[6.5e-7]}\r\n\t]} ";
    private static final String EMPTY_TENSOR = "{\"inputs\":[{\"name\":\"e\",\"shape\":[0,3],\"datatype\":\"FP32\","
            + "\"data\":[ ]}],\"id\":\"\"}";

    private static OipRequestReader.Header plain(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return PlainRequestReader.read(bytes, 0, bytes.length, LIMITS);
    }

    @ParameterizedTest
    @ValueSource(strings = {MLP, TWO_INPUTS, EMPTY_TENSOR})
    void theCommonShape_isReadByThePlainReader(String body) {
        assertNotNull(plain(body), body);
        assertSameOutcome(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aLargeTensor_growsItsBufferAndReadsEveryValue() {
        StringBuilder b = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[3000],\"data\":[");
        for (int i = 0; i < 3000; i++) {
            b.append(i == 0 ? "" : ",").append(i).append(".25");
        }
        String body = b.append("]}]}").toString();
        OipRequestReader.Header header = plain(body);
        assertNotNull(header);
        Tensor t = header.inputs().getFirst().tensor();
        assertEquals(3000 * Float.BYTES, t.data().remaining());
        assertEquals(2999.25f, t.data().getFloat(2999 * Float.BYTES));
        assertSameOutcome(body.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[\"NaN\"]}]}",
        "{\"inputs\":[{\"data\":[1],\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\"}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[[1,2]]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\"}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"parameters\":{}}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],\"parameters\":{}}]}",
        "{\"inputs\":[{\"name\":\"x\\u0041\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"caf\u00e9\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"name\":\"y\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]} x",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[01]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e400]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e0000000000000000000000000000000000000000000000000000000000000000]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},"
                + "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"id\":\"a\",\"id\":\"b\",\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],"
                + "\"inputs\":[{\"name\":\"y\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[]}",
        "{}",
        ""})
    void whatItDoesNotHandle_isLeftToTheFullReader(String body) {
        assertNull(plain(body), body);
        assertSameOutcome(body.getBytes(StandardCharsets.UTF_8));
    }

    /*
     * Every body one edit away from a valid one (a byte deleted, inserted or replaced, from a set of bytes that
     * matter to JSON and to this reader) decodes alike on both paths: the same request or the same error.
     */
    @ParameterizedTest
    @ValueSource(strings = {MLP, TWO_INPUTS, EMPTY_TENSOR})
    void everyBodyOneEditAway_decodesAsTheFullReaderDecodesIt(String body) {
        byte[] base = body.getBytes(StandardCharsets.UTF_8);
        byte[] edits = " \t\n\"\\,:[]{}-+.0159eExNa".getBytes(StandardCharsets.US_ASCII);
        byte[] extra = {0, 0x1f, 0x7f, (byte) 0xc3, (byte) 0xa9, (byte) 0xff};
        List<byte[]> variants = new ArrayList<>();
        for (int i = 0; i <= base.length; i++) {
            if (i < base.length) {
                variants.add(splice(base, i, 1, new byte[0]));
            }
            for (byte[] set : List.of(edits, extra)) {
                for (byte e : set) {
                    variants.add(splice(base, i, 0, new byte[] {e}));
                    if (i < base.length) {
                        variants.add(splice(base, i, 1, new byte[] {e}));
                    }
                }
            }
        }
        int accepted = 0;
        for (byte[] v : variants) {
            if (assertSameOutcome(v)) {
                accepted++;
            }
        }
        assertTrue(accepted > 0 && accepted < variants.size(), accepted + " of " + variants.size() + " accepted");
    }

    @Test
    void randomNumbers_decodeToTheFullReadersBits() {
        SplittableRandom random = new SplittableRandom(16);
        for (int round = 0; round < 200; round++) {
            StringBuilder b = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[50],\"data\":[");
            for (int i = 0; i < 50; i++) {
                b.append(i == 0 ? "" : ", ").append(randomNumber(random));
            }
            assertSameOutcome(b.append("]}]}").toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void fractionsOfEveryLength_withLeadingZerosAndExponents_decodeToTheFullReadersBits() {
        // Fractions of 1 to 24 digits, leading zeros that do not count as significant digits, more than 18
        // significant digits (left to the full reader), and an exponent or the end of the array right after them.
        SplittableRandom random = new SplittableRandom(21);
        int plainRounds = 0;
        int readPlain = 0;
        for (int round = 0; round < 300; round++) {
            // four rounds in five stay within the plain reader's fast path (at most 15 significant digits, small
            // exponents), so the comparison covers what the plain reader accepts, not only what it passes on
            boolean plainRange = round % 5 != 0;
            StringBuilder b = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[40],\"data\":[");
            for (int i = 0; i < 40; i++) {
                StringBuilder n = new StringBuilder(random.nextBoolean() ? "-" : "");
                String integer = random.nextInt(4) == 0 ? Integer.toString(random.nextInt(1000)) : "0";
                n.append(integer).append('.');
                int zeros = random.nextInt(4) == 0 ? random.nextInt(plainRange ? 6 : 12) : 0;
                n.append("0".repeat(zeros));
                // within the fast path: at most 15 digits in all, counting a nonzero integer part's
                int length = 1 + random.nextInt(plainRange
                        ? Math.min(12, 15 - zeros - (integer.equals("0") ? 0 : integer.length())) : 24);
                for (int k = 0; k < length; k++) {
                    n.append((char) ('0' + random.nextInt(10)));
                }
                if (random.nextInt(5) == 0) {
                    n.append(random.nextBoolean() ? 'e' : 'E').append(plainRange ? random.nextInt(-5, 6)
                            : random.nextInt(-12, 12));
                }
                b.append(i == 0 ? "" : random.nextBoolean() ? "," : ", ").append(n);
            }
            String body = b.append("]}]}").toString();
            assertSameOutcome(body.getBytes(StandardCharsets.UTF_8));
            if (plainRange) {
                plainRounds++;
                readPlain += plain(body) != null ? 1 : 0;
            }
        }
        assertTrue(readPlain > plainRounds * 0.8, readPlain + " of " + plainRounds + " read by the plain reader");
    }

    /**
     * Fractions of eight digits and more, as model inputs usually are: runs of zeros, a ninth digit or an exponent
     * after eight, and up to the 16 significant digits the fast path takes (leading zeros not counted).
     */
    @ParameterizedTest
    @ValueSource(strings = {"0.12345678", "-0.99999999", "0.00000000", "0.000000000", "0.00000001", "0.10000000",
        "0.000012345678", "0.0000000012345678", "0.123456789", "0.12345678e-3", "0.12345678E+2", "123.45678901",
        "0.000000000000000001", "0.1234567890123456", "0.0000001234567890123", "-10.00000000000000"})
    void longFractions_areReadByThePlainReader_toTheFullReadersBits(String number) {
        String body = fp32Tensor(number, number, "0.5");
        assertTrue(assertSameOutcome(body.getBytes(StandardCharsets.UTF_8)), body);
        assertNotNull(plain(body), "read by the plain reader: " + body);
    }

    /** 19 significant digits (or 18 over 2^53), and eight fraction digits followed by what no number has. */
    @ParameterizedTest
    @ValueSource(strings = {"0.1234567890123456789", "0.00000000123456789012345678901", "1234567890.123456789",
        "0.123456789012345678", "0.12345678.5", "0.12345678x", "0.12345678e", "0.1234567812345678-"})
    void fractionsPastTheFastPath_orMalformedAfterEightDigits_areLeftToTheFullReader(String number) {
        String body = fp32Tensor(number, "0.25");
        assertSameOutcome(body.getBytes(StandardCharsets.UTF_8));
        assertNull(plain(body), "left to the full reader: " + body);
    }

    /** A request of one FP32 tensor "x" whose data are {@code numbers}, written as given. */
    private static String fp32Tensor(String... numbers) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[" + numbers.length + "],\"data\":["
                + String.join(",", numbers) + "]}]}";
    }

    private static String randomNumber(SplittableRandom random) {
        float f = Float.intBitsToFloat(random.nextInt());
        double d = random.nextDouble(-1000, 1000);
        return switch (random.nextInt(6)) {
            case 0 -> Float.isFinite(f) ? Float.toString(f) : "0";
            case 1 -> Double.toString(d);
            case 2 -> String.format("%.7f", d);
            case 3 -> String.format("%.9e", d);
            case 4 -> Long.toString(random.nextLong(-99_999_999_999L, 99_999_999_999L));
            default -> (random.nextBoolean() ? "-" : "") + random.nextInt(100) + "." + random.nextInt(1_000_000)
                    + (random.nextBoolean() ? "E" + random.nextInt(-30, 30) : "");
        };
    }

    private static byte[] splice(byte[] base, int at, int remove, byte[] insert) {
        byte[] out = new byte[base.length - remove + insert.length];
        System.arraycopy(base, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(base, at + remove, out, at + insert.length, base.length - at - remove);
        return out;
    }

    /** Asserts both paths agree on {@code body}; true when it decoded. */
    private static boolean assertSameOutcome(byte[] body) {
        String label = new String(body, StandardCharsets.UTF_8);
        DecodedRequest expected;
        try {
            expected = FULL_ONLY.decodeRequest(Buffer.buffer(body), OptionalLong.empty());
        } catch (GantryException e) {
            try {
                WITH_PLAIN.decodeRequest(Buffer.buffer(body), OptionalLong.empty());
                fail("the plain path accepted what the full reader refuses (" + e.getMessage() + "): " + label);
            } catch (GantryException same) {
                assertEquals(e.getMessage(), same.getMessage(), label);
            }
            return false;
        }
        DecodedRequest actual = WITH_PLAIN.decodeRequest(Buffer.buffer(body), OptionalLong.empty());
        InferenceRequest want = expected.request();
        InferenceRequest got = actual.request();
        assertEquals(want.id(), got.id(), label);
        assertEquals(want.requestedOutputs(), got.requestedOutputs(), label);
        assertEquals(want.timeoutMicros(), got.timeoutMicros(), label);
        assertEquals(want.parameters(), got.parameters(), label);
        assertEquals(expected.outputEncoding(), actual.outputEncoding(), label);
        assertEquals(expected.classification(), actual.classification(), label);
        assertEquals(expected.sharedMemoryOutputs(), actual.sharedMemoryOutputs(), label);
        assertEquals(want.inputs().size(), got.inputs().size(), label);
        for (int i = 0; i < want.inputs().size(); i++) {
            Tensor w = want.inputs().get(i);
            Tensor g = got.inputs().get(i);
            assertEquals(w.name(), g.name(), label);
            assertTrue(w.contentEquals(g), label + ": input " + i + " " + Arrays.toString(g.shape()));
        }
        return true;
    }
}
