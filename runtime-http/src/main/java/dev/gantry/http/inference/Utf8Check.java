package dev.gantry.http.inference;

/** Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
final class Utf8Check {
    /*
     * Jackson decodes some ill-formed sequences (overlong forms, encoded surrogates) without complaint, which
     * would let bytes that are not UTF-8 into BYTES tensors and names. JSON bodies are mostly ASCII, so the
     * scan is one tight loop until the first byte with its high bit set.
     */
    private Utf8Check() {
    }

    /** Index of the first byte in {@code [from, to)} that starts or belongs to an ill-formed sequence, or -1. */
    static int firstInvalid(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int c = b[i];
            if (c >= 0) {
                i++;
                continue;
            }
            int lead = c & 0xFF;
            int length;
            int min;
            if (lead >= 0xC2 && lead <= 0xDF) {
                length = 2;
                min = 0x80;
            } else if (lead >= 0xE0 && lead <= 0xEF) {
                length = 3;
                min = 0x800;
            } else if (lead >= 0xF0 && lead <= 0xF4) {
                length = 4;
                min = 0x10000;
            } else {
                return i;
            }
            if (i + length > to) {
                return i;
            }
            int cp = lead & (0x7F >> length);
            for (int k = 1; k < length; k++) {
                int cont = b[i + k] & 0xFF;
                if ((cont & 0xC0) != 0x80) {
                    return i;
                }
                cp = (cp << 6) | (cont & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return i;
            }
            i += length;
        }
        return -1;
    }
}
