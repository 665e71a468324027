package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the common shape of a JSON inference request straight from its bytes, or declines and leaves the body to
 * {@link OipRequestReader}.
 */
final class PlainRequestReader {
    /*
     * Most small requests look alike: {"id": "...", "inputs": [{"name": "...", "shape": [...], "datatype":
     * "FP32", "data": [numbers]}]}. Tokenizing them with Jackson and converting each number from the token's
     * characters was the largest single cost of the MLP request on the event loop (JFR: about 20%). This reader
     * accepts only that shape and only text that is plainly valid JSON: keys and strings of printable ASCII with
     * no escapes, numbers in JSON's grammar that JsonNumbers converts exactly, no key twice, nothing after the
     * object. Anything else, including every malformed or refused request, makes it decline (return null), so the
     * request is read again by OipRequestReader, which gives the answer and the error message the server always
     * gave. A request this reader accepts decodes to the same header as there: the same strings, the same
     * element values bit for bit, the same admission checks (a refusal from those declines too, so the message
     * comes from the full reader). The tensor's buffer grows with the values that arrive, as in JsonTensorReader;
     * a count larger than the body could hold simply ends short of its values and declines.
     */

    private static final int ID = 1;
    private static final int INPUTS = 2;
    private static final int NAME = 1;
    private static final int SHAPE = 2;
    private static final int DATATYPE = 4;
    private static final int DATA = 8;
    /** Longer strings (names, ids) are left to the full reader, which applies the parser's length limits. */
    private static final int MAX_STRING = 1024;
    /** Longer numbers are left to the full reader, which applies the parser's number-length limit. */
    private static final int MAX_NUMBER = 64;
    private static final byte[] FP32 = "FP32".getBytes(StandardCharsets.US_ASCII);

    private final byte[] b;
    private final int end;
    private final CodecLimits limits;
    private final TensorAdmission admission;
    private int pos;
    /** Where the last string read by {@link #string()} starts and ends (exclusive), in {@code b}. */
    private int stringStart;
    private int stringEnd;

    private PlainRequestReader(byte[] body, int offset, int length, CodecLimits limits) {
        this.b = body;
        this.pos = offset;
        this.end = offset + length;
        this.limits = limits;
        this.admission = new TensorAdmission(limits);
    }

    /** The header of a request of the common shape, or null when the full reader must read it. */
    static OipRequestReader.Header read(byte[] body, int offset, int length, CodecLimits limits) {
        try {
            return new PlainRequestReader(body, offset, length, limits).root();
        } catch (GantryException refused) { // the full reader reports it, with the message it always gave
            return null;
        }
    }

    private OipRequestReader.Header root() {
        if (!next('{')) {
            return null;
        }
        String id = "";
        List<OipRequestReader.Input> inputs = null;
        int seen = 0;
        do {
            if (!string()) {
                return null;
            }
            int key = is("id") ? ID : is("inputs") ? INPUTS : 0;
            if (key == 0 || (seen & key) != 0 || !next(':')) {
                return null;
            }
            seen |= key;
            if (key == ID) {
                if (!string()) {
                    return null;
                }
                id = text();
            } else {
                inputs = inputs();
                if (inputs == null) {
                    return null;
                }
            }
        } while (next(','));
        if (!next('}') || inputs == null) {
            return null;
        }
        skipWhitespace();
        if (pos != end) {
            return null;
        }
        return new OipRequestReader.Header(id, inputs, Set.of(), Optional.empty(), Map.of(), OutputEncoding.json(),
                Map.of(), Map.of());
    }

    private List<OipRequestReader.Input> inputs() {
        if (!next('[')) {
            return null;
        }
        List<OipRequestReader.Input> inputs = new ArrayList<>(2);
        do {
            OipRequestReader.Input input = input();
            if (input == null) {
                return null;
            }
            admission.name(input.name());
            inputs.add(input);
        } while (next(','));
        return next(']') ? inputs : null;
    }

    private OipRequestReader.Input input() {
        if (!next('{')) {
            return null;
        }
        String name = null;
        long[] shape = null;
        boolean fp32 = false;
        Tensor tensor = null;
        int seen = 0;
        do {
            if (!string()) {
                return null;
            }
            int key = is("name") ? NAME : is("shape") ? SHAPE : is("datatype") ? DATATYPE : is("data") ? DATA : 0;
            if (key == 0 || (seen & key) != 0 || !next(':')) {
                return null;
            }
            seen |= key;
            switch (key) {
                case NAME -> {
                    if (!string()) {
                        return null;
                    }
                    name = text();
                }
                case SHAPE -> {
                    shape = shape();
                    if (shape == null) {
                        return null;
                    }
                }
                case DATATYPE -> {
                    if (!string() || !Arrays.equals(b, stringStart, stringEnd, FP32, 0, FP32.length)) {
                        return null;
                    }
                    fp32 = true;
                }
                default -> {
                    // data before name, datatype and shape is buffered by the full reader
                    if (name == null || !fp32 || shape == null) {
                        return null;
                    }
                    tensor = fp32Data(name, shape);
                    if (tensor == null) {
                        return null;
                    }
                }
            }
        } while (next(','));
        if (!next('}') || tensor == null) {
            return null;
        }
        return new OipRequestReader.Input(name, DataType.FP32, shape, (int) tensor.elementCount(), tensor, -1, null);
    }

    private long[] shape() {
        if (!next('[')) {
            return null;
        }
        long[] dims = new long[Math.min(8, limits.maxRank())];
        int rank = 0;
        if (next(']')) {
            return new long[0];
        }
        do {
            skipWhitespace();
            long dim = dimension();
            if (dim < 0 || rank == limits.maxRank()) {
                return null;
            }
            if (rank == dims.length) {
                dims = Arrays.copyOf(dims, Math.min(rank * 2, limits.maxRank()));
            }
            dims[rank++] = dim;
        } while (next(','));
        return next(']') ? Arrays.copyOf(dims, rank) : null;
    }

    /** A non-negative JSON integer of at most 18 digits at {@code pos}, or -1. */
    private long dimension() {
        int start = pos;
        long value = 0;
        while (pos < end && isDigit(b[pos])) {
            value = value * 10 + (b[pos++] - '0');
        }
        int digits = pos - start;
        if (digits == 0 || digits > JsonNumbers.MAX_DIGITS || (b[start] == '0' && digits > 1)) {
            return -1;
        }
        return value;
    }

    private Tensor fp32Data(String name, long[] shape) {
        int count = admission.admit(name, DataType.FP32, shape);
        if (!next('[')) {
            return null;
        }
        ByteBuffer bytes = JsonTensorReader.firstBuffer(count * Float.BYTES);
        int index = 0;
        if (!next(']')) {
            do {
                skipWhitespace();
                if (index == count) {
                    return null;
                }
                float value = fp32();
                if (value != value) {
                    return null;
                }
                if (!bytes.hasRemaining()) {
                    bytes = JsonTensorReader.grown(bytes, count * Float.BYTES);
                }
                bytes.putFloat(value);
                index++;
            } while (next(','));
            if (!next(']')) {
                return null;
            }
        }
        return index == count ? Tensor.of(name, DataType.FP32, shape, bytes.flip()) : null;
    }

    /**
     * The JSON number at {@code pos} as JsonTensorReader converts it for an FP32 element, or NaN when it is not a
     * number or not on JsonNumbers' fast path.
     */
    private float fp32() {
        int start = pos;
        boolean negative = pos < end && b[pos] == '-';
        if (negative) {
            pos++;
        }
        if (pos == end || b[pos] < '0' || b[pos] > '9' || (b[pos] == '0' && pos + 1 < end && isDigit(b[pos + 1]))) {
            return Float.NaN; // no digit, or a leading zero: not JSON
        }
        // The digits before and after one '.', as one mantissa; each digit after the point lowers the exponent.
        long mantissa = 0;
        int digits = 0;
        int exponent = 0;
        int point = -1;
        for (; pos < end; pos++) {
            int d = b[pos] - '0';
            if (d < 0 || d > 9) {
                if (b[pos] != '.' || point >= 0) {
                    break;
                }
                point = pos;
                continue;
            }
            if (mantissa != 0 || d != 0) {
                if (++digits > JsonNumbers.MAX_DIGITS) {
                    return Float.NaN;
                }
                mantissa = mantissa * 10 + d;
            }
            if (point >= 0) {
                exponent--;
            }
        }
        if (point == pos - 1) {
            return Float.NaN; // a point with no digit after it
        }
        boolean integer = point < 0;
        if (pos < end && (b[pos] == 'e' || b[pos] == 'E')) {
            integer = false;
            pos++;
            boolean negativeExponent = pos < end && b[pos] == '-';
            if (pos < end && (b[pos] == '-' || b[pos] == '+')) {
                pos++;
            }
            int digitsStart = pos;
            int written = 0;
            for (; pos < end && isDigit(b[pos]); pos++) {
                written = Math.min(written * 10 + (b[pos] - '0'), 10_000);
            }
            if (pos == digitsStart) {
                return Float.NaN;
            }
            exponent += negativeExponent ? -written : written;
        }
        if (pos - start > MAX_NUMBER) {
            return Float.NaN;
        }
        if (integer) {
            // as the parser converts an integer token: from its long value, so "-0" is +0.0
            return (float) (negative ? -mantissa : mantissa);
        }
        return JsonNumbers.toFloat(negative, mantissa, exponent);
    }

    /** Reads a string of printable ASCII without escapes at {@code pos} (after whitespace); false otherwise. */
    private boolean string() {
        if (!next('"')) {
            return false;
        }
        int start = pos;
        int limit = Math.min(end, start + MAX_STRING);
        for (; pos < limit; pos++) {
            byte c = b[pos];
            if (c == '"') {
                stringStart = start;
                stringEnd = pos++;
                return true;
            }
            if (c < 0x20 || c > 0x7E || c == '\\') {
                return false;
            }
        }
        return false;
    }

    private boolean is(String key) {
        int length = stringEnd - stringStart;
        if (length != key.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (b[stringStart + i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String text() {
        return new String(b, stringStart, stringEnd - stringStart, StandardCharsets.US_ASCII);
    }

    /** Skips whitespace; consumes {@code c} and returns true when it comes next. */
    private boolean next(char c) {
        skipWhitespace();
        if (pos < end && b[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void skipWhitespace() {
        while (pos < end) {
            byte c = b[pos];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            pos++;
        }
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }
}
