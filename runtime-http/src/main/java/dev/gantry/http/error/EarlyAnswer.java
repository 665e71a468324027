package dev.gantry.http.error;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * An answer sent before the request's body was read: a refusal on the head alone (no key, a key without the
 * right, over quota, wrong media type, a cross-site request, shutting down), or part-way through it (too large).
 */
public final class EarlyAnswer {
    /*
     * Why the connection closes. The body was not read, so the connection cannot carry another request: what
     * follows on it is the rest of this body. Left as it was, a client that reuses connections (every pooling
     * client does) would send its next request behind the unread bytes and wait for an answer that never comes:
     * Vert.x completes an HTTP/1.1 exchange only once its request has ended, and a paused request never ends.
     * So the answer says "Connection: close", and once it is written the rest of the body is read and dropped
     * and the connection closed when the body ends. Reading the rest first (a "lingering close") lets a client
     * that is still sending finish its write and read the answer; closing with bytes unread would reset the
     * connection and could lose the answer. The lingering is bounded: after LINGER_BYTES the connection is
     * closed at once, and a client that stops sending is closed by the connection guard's idle sweep (one
     * header timeout after the answer). A request with no body (a GET, or Content-Length: 0) keeps its
     * connection.
     */
    static final long LINGER_BYTES = 4L << 20;
    private static final CharSequence CLOSE = HttpHeaders.createOptimized("close");

    private EarlyAnswer() {
    }

    /**
     * Stops reading the request's body until the answer is written and, if the request has a body still to come,
     * closes the connection after it (see above). Call it before sending the answer.
     */
    public static void leaveBodyUnread(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        request.pause();
        if (request.version() == HttpVersion.HTTP_2 || !mayHaveBodyToCome(request)) {
            return;
        }
        request.response().putHeader(HttpHeaders.CONNECTION, CLOSE);
        ctx.addBodyEndHandler(v -> dropRestThenClose(request));
    }

    /**
     * For a request refused while its body was being read (it grew past the limit): says "Connection: close" and
     * drops the rest of the body, closing the connection when it ends or past LINGER_BYTES, as above. Without
     * this, Vert.x would read a body of any declared length to its end, and a chunked body for as long as the
     * client kept sending. Call it before sending the answer, on the request's event loop; it replaces the
     * request's handlers.
     */
    public static void dropRestOfBody(HttpServerRequest request) {
        if (request.version() == HttpVersion.HTTP_2) {
            return;
        }
        request.response().putHeader(HttpHeaders.CONNECTION, CLOSE);
        if (!request.isEnded()) {
            dropRestThenClose(request);
        }
    }

    private static void dropRestThenClose(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        long[] dropped = {0};
        request.handler(chunk -> {
            dropped[0] += chunk.length();
            if (dropped[0] > LINGER_BYTES) {
                connection.close();
            }
        });
        request.exceptionHandler(e -> connection.close());
        request.endHandler(v -> {
            // a refusal answered after its body ended closes on its own ("Connection: close"); closing first
            // would lose the answer
            if (request.response().ended()) {
                connection.close();
            }
        });
        request.resume();
    }

    static boolean mayHaveBodyToCome(HttpServerRequest request) {
        if (request.isEnded()) {
            return false;
        }
        if (request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null) {
            return true;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        return length != null && !length.trim().equals("0");
    }
}
