package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.error.EarlyAnswer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/** Reads a request body into memory up to a limit, refusing larger ones as early as it can tell. */
public final class BodyReader {
    /*
     * Memory follows the bytes that arrived, never the Content-Length a client declared: a body in one chunk is
     * that chunk; from a second chunk on, the buffer starts at INITIAL_BYTES (or the declared length, when
     * smaller; or twice what arrived, when more) and grows as chunks are appended. A connection that
     * declares 64 MiB and sends nothing holds a few KiB until the body timeout closes it. Growth doubles (capped
     * at the declared length, when there is one), so a large body is copied about once more in total rather
     * than once per 4 MiB step as Netty's own growth above 4 MiB would.
     */
    static final int INITIAL_BYTES = 16 * 1024;
    /* The deadline keeper of each event loop (the connection guard's sweep), when it has one. A Netty
     * FastThreadLocal: on an event loop (a FastThreadLocalThread) its lookup is an array read, not a hash probe
     * of the thread's ThreadLocalMap; on any other thread it behaves as a ThreadLocal. */
    private static final io.netty.util.concurrent.FastThreadLocal<BodyDeadlines> LOOP_DEADLINES =
            new io.netty.util.concurrent.FastThreadLocal<>();

    private BodyReader() {
    }

    /**
     * Completes with the whole body, or fails with PAYLOAD_TOO_LARGE as soon as the declared or received
     * length passes {@code maxBytes} (the connection is then closed after the error is sent, since the rest
     * of the body will not be read: {@link EarlyAnswer#dropRestOfBody}).
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
        return read(request, maxBytes, vertx, timeoutMs, null);
    }

    /**
     * As {@link #read(HttpServerRequest, long, io.vertx.core.Vertx, long)}, holding in {@code lease} (null: none)
     * the memory the body takes as it arrives (its buffer's capacity, which doubles as it grows, not only the
     * bytes that arrived); a chunk the lease refuses fails the read with its error (429) and closes the
     * connection after the answer, the rest of the body unread. The caller closes the lease when the request ends.
     */
    public static Future<Buffer> read(HttpServerRequest request, long maxBytes, io.vertx.core.Vertx vertx,
                                      long timeoutMs, BodyMemory.Lease lease) {
        Future<Buffer> body = readBody(request, maxBytes, lease);
        if (vertx == null || timeoutMs <= 0 || body.isComplete()) {
            return body;
        }
        Promise<Buffer> timed = Promise.promise();
        Runnable expire = () -> {
            if (timed.tryFail(new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the request body did not arrive"
                    + " within " + timeoutMs + " ms (--body-timeout-ms)"))
                    && !request.response().headWritten()) {
                // Usually the failure above has already been answered (its listeners run at once on this loop),
                // and Vert.x closes a connection whose response ended before its request did.
                request.response().putHeader("Connection", "close");
                request.pause();
            }
        };
        BodyDeadlines sweep = LOOP_DEADLINES.get();
        BodyDeadlines.Armed swept = sweep == null ? null : sweep.arm(request, timeoutMs, expire);
        BodyDeadlines.Armed armed = swept != null ? swept : timer(vertx, timeoutMs, expire);
        body.onComplete(ar -> {
            armed.disarm();
            if (ar.succeeded()) {
                timed.tryComplete(ar.result());
            } else {
                timed.tryFail(ar.cause());
            }
        });
        return timed.future();
    }

    /** A timer of its own, for a request whose connection no deadline keeper knows. */
    private static BodyDeadlines.Armed timer(io.vertx.core.Vertx vertx, long timeoutMs, Runnable onExpiry) {
        long id = vertx.setTimer(timeoutMs, t -> onExpiry.run());
        return () -> vertx.cancelTimer(id);
    }

    /**
     * Makes body reads on the calling thread (an event loop) use {@code deadlines} instead of a timer per
     * request, for the requests whose connection it knows.
     */
    public static void useDeadlinesOnThisThread(BodyDeadlines deadlines) {
        LOOP_DEADLINES.set(deadlines);
    }

    private static Future<Buffer> readBody(HttpServerRequest request, long maxBytes, BodyMemory.Lease lease) {
        String declared = request.getHeader(io.vertx.core.http.HttpHeaders.CONTENT_LENGTH);
        int initialCapacity = INITIAL_BYTES;
        long ceiling = maxBytes;
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
                EarlyAnswer.dropRestOfBody(request);
                return Future.failedFuture(tooLarge(n, maxBytes));
            }
            initialCapacity = (int) Math.min(n, INITIAL_BYTES);
            ceiling = n;
        }
        Promise<Buffer> promise = Promise.promise();
        Growing body = new Growing(initialCapacity, ceiling);
        request.handler(chunk -> {
            // after a refusal or a body timeout was answered, what still arrives is neither kept nor charged
            if (promise.future().isComplete() || request.response().ended()) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxBytes) {
                EarlyAnswer.dropRestOfBody(request);
                promise.tryFail(tooLarge((long) body.length() + chunk.length(), maxBytes));
                return;
            }
            if (lease != null && !lease.grow(body.growthFor(chunk.length()))) {
                EarlyAnswer.dropRestOfBody(request);
                promise.tryFail(lease.refused());
                return;
            }
            body.append(chunk);
        });
        request.endHandler(v -> promise.tryComplete(body.buffer()));
        request.exceptionHandler(e -> promise.tryFail(new GantryException(ErrorCode.INVALID_ARG,
                "could not read the request body: " + e.getMessage())));
        return promise.future();
    }

    /**
     * A body buffer that doubles when full, up to a ceiling past which it grows only by what arrives. A body
     * that arrives in one chunk (most inference requests) is that chunk itself, not copied again into a buffer
     * of our own; that copy was the request path's largest allocation of ours (MLP JSON, JFR, 12-01). Keeping it
     * is safe because Vert.x 5 hands each chunk over as an unpooled heap copy: HTTP/1 through
     * VertxHandler.safeBuffer (server connections read into pooled buffers, which it copies), HTTP/2 through its
     * own copy in Http2ConnectionBase. ChunkOwnershipTest fails if a Vert.x upgrade changes that. Empty chunks
     * (the last one of a chunked body) are skipped, so a chunked body with one data chunk is kept too.
     */
    private static final class Growing {
        private final long ceiling;
        private final int initial;
        /** Null until the first chunk; then that chunk, until a second one makes a buffer of our own. */
        private Buffer buffer;
        private boolean owned;
        private long capacity;

        Growing(int initial, long ceiling) {
            this.initial = initial;
            this.ceiling = ceiling;
        }

        int length() {
            return buffer == null ? 0 : buffer.length();
        }

        /**
         * How many bytes more this body holds once a chunk of {@code length} is appended: the buffer's growth,
         * not the chunk's length (a buffer that doubles holds up to twice what arrived).
         */
        long growthFor(int length) {
            if (length == 0) {
                return 0;
            }
            if (buffer == null) {
                return length;
            }
            long needed = (long) buffer.length() + length;
            return !owned || needed > capacity ? grownCapacity(needed) - capacity : 0;
        }

        private long grownCapacity(long needed) {
            return Math.max(needed, Math.min(Math.max(2 * capacity, initial), ceiling));
        }

        void append(Buffer chunk) {
            if (chunk.length() == 0) {
                return;
            }
            if (buffer == null) {
                buffer = chunk;
                capacity = chunk.length();
                return;
            }
            long needed = (long) buffer.length() + chunk.length();
            if (!owned || needed > capacity) {
                capacity = grownCapacity(needed);
                Buffer grown = Buffer.buffer((int) capacity);
                grown.appendBuffer(buffer);
                buffer = grown;
                owned = true;
            }
            buffer.appendBuffer(chunk);
        }

        Buffer buffer() {
            return buffer == null ? Buffer.buffer(0) : buffer;
        }
    }

    private static GantryException tooLarge(long size, long max) {
        return new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "request body of at least " + size
                + " bytes exceeds the limit of " + max + " bytes (--max-body-bytes)");
    }
}
