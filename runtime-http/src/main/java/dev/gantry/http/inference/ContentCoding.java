package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.buffer.Buffer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/** HTTP content codings of inference bodies: gzip and deflate requests in, gzip or deflate responses out. */
public final class ContentCoding {
    /*
     * Requests. Triton's rule: with Content-Encoding the body on the wire is compressed, and everything the
     * protocol says about "the body" (Inference-Header-Content-Length, binary_data_size) is about the
     * decompressed bytes. The compressed body is read under --max-body-bytes like any other; it is then
     * inflated a block at a time into a buffer that may grow to --max-body-bytes and no further: the block
     * that would pass the limit ends the request with 413, so a decompression bomb costs at most the limit in
     * memory and the time to inflate that much, never its declared size. "deflate" is the zlib format
     * (RFC 1950, what HTTP means by it and what zlib.compress writes); a raw deflate stream is accepted too.
     *
     * Responses. Compressed only when the client's Accept-Encoding allows gzip or deflate and the body is larger
     * than MIN_RESPONSE_BYTES (below that the gzip header and the CPU time outweigh the saving). Fastest level:
     * the server's CPU is shared with the models.
     */
    public static final int MIN_RESPONSE_BYTES = 1024;
    private static final int BLOCK = 64 * 1024;

    /** A content coding Gantry reads and writes. */
    public enum Coding {
        IDENTITY("identity"), GZIP("gzip"), DEFLATE("deflate");

        private final String token;

        Coding(String token) {
            this.token = token;
        }

        /** The name in Content-Encoding and Accept-Encoding. */
        public String token() {
            return token;
        }
    }

    private ContentCoding() {
    }

    /**
     * The coding of a request body from its Content-Encoding header (absent: identity).
     *
     * @throws GantryException UNSUPPORTED_MEDIA_TYPE for any other coding, or more than one
     */
    public static Coding ofRequest(String contentEncoding) {
        if (contentEncoding == null || contentEncoding.isBlank()) {
            return Coding.IDENTITY;
        }
        String value = contentEncoding.trim().toLowerCase(Locale.ROOT);
        for (Coding c : Coding.values()) {
            if (c.token.equals(value)) {
                return c;
            }
        }
        if (value.equals("x-gzip")) {
            return Coding.GZIP;
        }
        throw new GantryException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Encoding '"
                + JsonValues.abbreviate(contentEncoding) + "' is not accepted; send gzip, deflate or identity (one coding)");
    }

    /**
     * Inflates a request body.
     *
     * @throws GantryException PAYLOAD_TOO_LARGE as soon as the decompressed bytes pass {@code maxBytes};
     *     INVALID_ARG when the body is not valid data of that coding
     */
    public static Buffer decode(Coding coding, Buffer body, long maxBytes) {
        return decode(coding, body, maxBytes, null);
    }

    /**
     * As {@link #decode(Coding, Buffer, long)}, holding the inflated buffer in {@code lease} (null: none) as it
     * grows: a compressed body of a few KiB can inflate to --max-body-bytes, so what it inflates to counts against
     * the server's body memory budget like the bytes that arrived.
     *
     * @throws GantryException RESOURCE_EXHAUSTED when the lease refuses the inflated buffer's growth
     */
    public static Buffer decode(Coding coding, Buffer body, long maxBytes, BodyMemory.Lease lease) {
        if (coding == Coding.IDENTITY) {
            return body;
        }
        byte[] compressed = body.getBytes();
        try (InputStream in = inflating(coding, compressed)) {
            int first = (int) Math.min(maxBytes, Math.max(BLOCK, Math.min(compressed.length * 4L,
                    Integer.MAX_VALUE - 16)));
            hold(lease, first);
            byte[] out = new byte[first];
            int size = 0;
            while (true) {
                if (size == out.length) {
                    if (size >= maxBytes) {
                        if (in.read() < 0) {
                            break;
                        }
                        throw tooLarge(maxBytes, coding);
                    }
                    int grown = (int) Math.min(maxBytes, Math.min((long) out.length * 2, Integer.MAX_VALUE - 16));
                    hold(lease, grown - out.length);
                    out = Arrays.copyOf(out, grown);
                }
                int n = in.read(out, size, Math.min(BLOCK, out.length - size));
                if (n < 0) {
                    break;
                }
                size += n;
            }
            return Buffer.buffer(size == out.length ? out : Arrays.copyOf(out, size));
        } catch (EOFException e) {
            throw GantryException.invalid("request body is truncated " + coding.token + " data (Content-Encoding: "
                    + coding.token + ")");
        } catch (ZipException e) {
            throw GantryException.invalid("request body is not valid " + coding.token + " data (Content-Encoding: "
                    + coding.token + "): " + e.getMessage());
        } catch (IOException e) {
            throw GantryException.invalid("request body could not be decompressed (Content-Encoding: "
                    + coding.token + "): " + e.getMessage());
        }
    }

    private static void hold(BodyMemory.Lease lease, long bytes) {
        if (lease != null && !lease.grow(bytes)) {
            throw lease.refused();
        }
    }

    private static InputStream inflating(Coding coding, byte[] compressed) throws IOException {
        ByteArrayInputStream raw = new ByteArrayInputStream(compressed);
        if (coding == Coding.GZIP) {
            return new GZIPInputStream(raw, BLOCK);
        }
        boolean zlib = compressed.length >= 2 && (compressed[0] & 0x0F) == 8
                && (((compressed[0] & 0xFF) << 8) | (compressed[1] & 0xFF)) % 31 == 0;
        return new InflaterInputStream(raw, new Inflater(/* nowrap= */ !zlib), BLOCK) {
            @Override
            public void close() throws IOException {
                super.close();
                inf.end();
            }
        };
    }

    private static GantryException tooLarge(long max, Coding coding) {
        return new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "request body decompresses (Content-Encoding: "
                + coding.token + ") to more than the limit of " + max + " bytes (--max-body-bytes)");
    }

    /** The coding to answer with, from the request's Accept-Encoding: gzip preferred, then deflate; else empty. */
    public static Optional<Coding> forResponse(String acceptEncoding) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) {
            return Optional.empty();
        }
        double gzip = -1;
        double deflate = -1;
        double any = -1;
        for (String part : acceptEncoding.split(",")) {
            String[] pieces = part.trim().split(";");
            double q = 1;
            for (int i = 1; i < pieces.length; i++) {
                String param = pieces[i].trim().toLowerCase(Locale.ROOT);
                if (param.startsWith("q=")) {
                    try {
                        q = Double.parseDouble(param.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            switch (pieces[0].trim().toLowerCase(Locale.ROOT)) {
                case "gzip", "x-gzip" -> gzip = q;
                case "deflate" -> deflate = q;
                case "*" -> any = q;
                default -> {
                }
            }
        }
        gzip = gzip >= 0 ? gzip : any;
        deflate = deflate >= 0 ? deflate : any;
        if (gzip > 0 && gzip >= deflate) {
            return Optional.of(Coding.GZIP);
        }
        return deflate > 0 ? Optional.of(Coding.DEFLATE) : Optional.empty();
    }

    /** Whether a response body of {@code bytes} bytes is worth compressing. */
    public static boolean worthCompressing(long bytes) {
        return bytes > MIN_RESPONSE_BYTES;
    }

    /** Compresses a response body (deflate: the zlib format). */
    public static Buffer encode(Coding coding, Buffer body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, body.length() / 4));
        try (DeflaterOutputStream z = coding == Coding.GZIP
                ? new GZIPOutputStream(out, BLOCK) {
                    {
                        def.setLevel(Deflater.BEST_SPEED);
                    }
                }
                : new DeflaterOutputStream(out, new Deflater(Deflater.BEST_SPEED), BLOCK) {
                    @Override
                    public void close() throws IOException {
                        super.close();
                        def.end();
                    }
                }) {
            z.write(body.getBytes());
        } catch (IOException e) {
            throw new GantryException(ErrorCode.INTERNAL, "could not compress the response: " + e.getMessage());
        }
        return Buffer.buffer(out.toByteArray());
    }
}
