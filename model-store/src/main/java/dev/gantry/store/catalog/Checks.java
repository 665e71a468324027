package dev.gantry.store.catalog;

import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** Field checks shared by the catalogue records; each message names the field and the bad value. */
final class Checks {
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    static final String DIGEST_PREFIX = "sha256:";

    private Checks() {
    }

    static String name(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " must not be blank, was " + quote(value));
        }
        return value;
    }

    static long version(String field, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " must be >= 1, was " + value);
        }
        return value;
    }

    static void digest(String field, String value) {
        if (value == null || !value.startsWith(DIGEST_PREFIX)
                || !SHA256_HEX.matcher(value.substring(DIGEST_PREFIX.length())).matches()) {
            throw new IllegalArgumentException(field + " must be 'sha256:' followed by 64 lowercase hex digits, was "
                    + quote(value));
        }
    }

    static void sha256Hex(String field, String value) {
        if (value == null || !SHA256_HEX.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " must be 64 lowercase hex digits, was " + quote(value));
        }
    }

    /** {@code sha256:<hex>} from either that form or bare hex, any case. */
    static String normalizeDigest(String digest) {
        if (digest == null) {
            throw new IllegalArgumentException("digest must not be null");
        }
        String d = digest.trim().toLowerCase(Locale.ROOT);
        if (!d.startsWith(DIGEST_PREFIX)) {
            d = DIGEST_PREFIX + d;
        }
        digest("digest", d);
        return d;
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }
}
