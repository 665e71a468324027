package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/** Reads a request body into memory up to a limit, refusing larger ones as early as it can tell. */
public final class BodyReader {
    private BodyReader() {
    }

    /**
     * Completes with the whole body, or fails with PAYLOAD_TOO_LARGE as soon as the declared or received
     * length passes {@code maxBytes} (the connection is then closed after the error is sent, since the rest
     * of the body will not be read).
     */
    public static Future<Buffer> read(HttpServerRequest request, long maxBytes) {
        return read(request, maxBytes, null, 0);
    }

    /**
     * As {@link #read(HttpServerRequest, long)}, and fails with DEADLINE_EXCEEDED (the connection is then
     * closed) when the whole body has not arrived within {@code timeoutMs}.
     */
    public static Future<Buffer> read(HttpServerRequest request, long maxBytes, io.vertx.core.Vertx vertx,
                                      long timeoutMs) {
        Future<Buffer> body = readBody(request, maxBytes);
        if (vertx == null || timeoutMs <= 0 || body.isComplete()) {
            return body;
        }
        Promise<Buffer> timed = Promise.promise();
        long timer = vertx.setTimer(timeoutMs, id -> {
            if (timed.tryFail(new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the request body did not arrive"
                    + " within " + timeoutMs + " ms (--body-timeout-ms)"))) {
                request.response().putHeader("Connection", "close");
                request.pause();
            }
        });
        body.onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                timed.tryComplete(ar.result());
            } else {
                timed.tryFail(ar.cause());
            }
        });
        return timed.future();
    }

    private static Future<Buffer> readBody(HttpServerRequest request, long maxBytes) {
        String declared = request.getHeader("Content-Length");
        int initialCapacity = 1024;
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                return Future.failedFuture(GantryException.invalid("Content-Length '" + declared
                        + "' is not a number"));
            }
            if (n < 0) {
                return Future.failedFuture(GantryException.invalid("Content-Length " + n + " is negative"));
            }
            if (n > maxBytes) {
                request.response().putHeader("Connection", "close");
                return Future.failedFuture(tooLarge(n, maxBytes));
            }
            initialCapacity = (int) n;
        }
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer(initialCapacity);
        request.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxBytes) {
                request.response().putHeader("Connection", "close");
                promise.tryFail(tooLarge((long) body.length() + chunk.length(), maxBytes));
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> promise.tryComplete(body));
        request.exceptionHandler(e -> promise.tryFail(new GantryException(ErrorCode.INVALID_ARG,
                "could not read the request body: " + e.getMessage())));
        return promise.future();
    }

    private static GantryException tooLarge(long size, long max) {
        return new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "request body of at least " + size
                + " bytes exceeds the limit of " + max + " bytes (--max-body-bytes)");
    }
}
