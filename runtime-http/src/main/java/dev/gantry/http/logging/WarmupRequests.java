package dev.gantry.http.logging;

import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells the access log and the tracer which requests are the server's own start-up warm-up, so its 2,000 loopback
 * requests per start stay out of both. A warm-up carries a random token only this process knows, valid only
 * while that warm-up runs; a client that copies the header name cannot hide its requests, and once every
 * warm-up has ended the check is one read of an empty set.
 */
public final class WarmupRequests {
    /** The header a warm-up request carries its token in. */
    public static final String HEADER = "Gantry-Warmup";
    private static final SecureRandom RANDOM = new SecureRandom();
    /* Tokens of the warm-ups running now (one per server starting in this process). */
    private static final Set<String> ACTIVE = ConcurrentHashMap.newKeySet();

    private WarmupRequests() {
    }

    /** A fresh token, valid until {@link #end}. */
    public static String begin() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        String token = HexFormat.of().formatHex(b);
        ACTIVE.add(token);
        return token;
    }

    /** Ends {@code token}'s validity: requests carrying it are logged and traced like any other from now on. */
    public static void end(String token) {
        ACTIVE.remove(token);
    }

    /** Whether {@code request} belongs to a warm-up running now. */
    public static boolean isWarmup(HttpServerRequest request) {
        if (ACTIVE.isEmpty()) {
            return false;
        }
        String sent = request.getHeader(HEADER);
        if (sent == null) {
            return false;
        }
        byte[] s = sent.getBytes(StandardCharsets.US_ASCII);
        for (String token : ACTIVE) {
            if (MessageDigest.isEqual(s, token.getBytes(StandardCharsets.US_ASCII))) {
                return true;
            }
        }
        return false;
    }
}
