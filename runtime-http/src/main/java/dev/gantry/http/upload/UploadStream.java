package dev.gantry.http.upload;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.WriteStream;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/** Streams a request body into a {@link WriteStream} (a file), with a size limit and an idle timeout. */
public final class UploadStream {
    /*
     * The idle timer is one Vert.x timer per upload, re-armed lazily: each chunk records when it arrived, and
     * when the timer fires it either re-arms for the remainder or, when nothing arrived for the whole timeout,
     * drops the upload. An upload that stops sending therefore holds its connection, its slot and its partial
     * file for at most one idle timeout, whatever Content-Length it declared. The disk check runs every
     * DISK_CHECK_BYTES so a disk that fills during a long upload stops it before it hits the floor.
     */
    static final long DISK_CHECK_BYTES = 8L << 20;

    /**
     * @param maxBytes    past this many bytes the upload fails PAYLOAD_TOO_LARGE (413)
     * @param idleTimeout with no byte for this long the upload fails DEADLINE_EXCEEDED (408)
     * @param diskCheck   given the bytes received so far, empty when the disk can take the rest, else the
     *                    message of an INSUFFICIENT_STORAGE (507) failure; called before the first byte and
     *                    every {@link #DISK_CHECK_BYTES}
     */
    public record Options(long maxBytes, Duration idleTimeout, LongFunction<Optional<String>> diskCheck) {
    }

    private UploadStream() {
    }

    /**
     * Pipes {@code request}'s body into {@code out}, passing each chunk to {@code onChunk} first (a digest).
     * Completes with the number of bytes received once the body has ended (the caller then closes {@code out},
     * which flushes it); on any failure the request is paused and the connection marked to close after the
     * error response; {@code out} is left for the caller to close and delete either way. Call on the request's
     * event loop, with the request paused (as a route handler receives it after a pause, or fresh).
     */
    public static Future<Long> pipe(HttpServerRequest request, WriteStream<Buffer> out, Vertx vertx, Options options,
                                    Consumer<Buffer> onChunk) {
        Promise<Long> done = Promise.promise();
        Optional<String> noRoom = options.diskCheck().apply(0);
        if (noRoom.isPresent()) {
            request.response().putHeader("Connection", "close");
            return Future.failedFuture(new GantryException(ErrorCode.INSUFFICIENT_STORAGE, noRoom.get()));
        }
        long idleMs = options.idleTimeout().toMillis();
        long[] received = {0};
        long[] nextDiskCheck = {DISK_CHECK_BYTES};
        long[] lastChunkNanos = {System.nanoTime()};
        long[] timer = {0};
        Consumer<GantryException> abort = e -> {
            if (done.future().isComplete()) {
                return;
            }
            // Header and pause first: failing the promise may run the caller's answer at once (CI once saw a 408
            // without Connection: close when the file closed synchronously).
            vertx.cancelTimer(timer[0]);
            if (!request.response().headWritten()) {
                request.response().putHeader("Connection", "close");
            }
            request.pause();
            done.tryFail(e);
        };
        timer[0] = vertx.setTimer(idleMs, new io.vertx.core.Handler<Long>() {
            @Override
            public void handle(Long id) {
                if (done.future().isComplete()) {
                    return;
                }
                long idleFor = (System.nanoTime() - lastChunkNanos[0]) / 1_000_000;
                if (idleFor >= idleMs) {
                    abort.accept(new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the upload sent nothing for "
                            + idleMs + " ms after " + received[0] + " bytes; it was dropped"));
                } else {
                    timer[0] = vertx.setTimer(idleMs - idleFor, this);
                }
            }
        });
        request.handler(chunk -> {
            if (done.future().isComplete()) {
                return;
            }
            lastChunkNanos[0] = System.nanoTime();
            received[0] += chunk.length();
            if (received[0] > options.maxBytes()) {
                abort.accept(new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "the upload exceeds the limit of "
                        + options.maxBytes() + " bytes"));
                return;
            }
            if (received[0] >= nextDiskCheck[0]) {
                nextDiskCheck[0] = received[0] + DISK_CHECK_BYTES;
                Optional<String> full = options.diskCheck().apply(received[0]);
                if (full.isPresent()) {
                    abort.accept(new GantryException(ErrorCode.INSUFFICIENT_STORAGE, full.get()));
                    return;
                }
            }
            onChunk.accept(chunk);
            out.write(chunk);
            if (out.writeQueueFull()) {
                request.pause();
                out.drainHandler(v -> {
                    if (!done.future().isComplete()) {
                        request.resume();
                    }
                });
            }
        });
        request.exceptionHandler(e -> abort.accept(GantryException.invalid("the upload was interrupted: "
                + e.getMessage())));
        request.endHandler(v -> {
            vertx.cancelTimer(timer[0]);
            done.tryComplete(received[0]);
        });
        request.resume();
        return done.future();
    }
}
