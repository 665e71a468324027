package dev.gantry.http.inference;

import io.netty.util.AsciiString;

/**
 * A model version as text, the first 1,024 made once: every inference response names its version twice, in the
 * Gantry-Model-Version header and in the body's model_version.
 */
final class VersionText {
    private static final AsciiString[] SMALL = new AsciiString[1024];

    static {
        for (int v = 0; v < SMALL.length; v++) {
            SMALL[v] = AsciiString.cached(Integer.toString(v));
        }
    }

    private VersionText() {
    }

    /** The header value (an AsciiString Netty writes without encoding it again). */
    static CharSequence header(long version) {
        return version >= 0 && version < SMALL.length ? SMALL[(int) version] : Long.toString(version);
    }

    /** The same text as a String, for the JSON body. */
    static String text(long version) {
        return version >= 0 && version < SMALL.length ? SMALL[(int) version].toString() : Long.toString(version);
    }
}
