package dev.gantry.http.upload;

import dev.gantry.http.error.ErrorMapper;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An upload streamed with {@link UploadStream} over a real Vert.x server and a raw socket client. */
@Timeout(30)
class UploadStreamTest {
    private static final Duration IDLE = Duration.ofMillis(300);

    @TempDir
    Path dir;
    private final Vertx vertx = Vertx.vertx();
    private final AtomicLong digested = new AtomicLong();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void completeUpload_isWrittenWhole_andEveryChunkSeenFirst() throws Exception {
        int port = serve(100_000, received -> Optional.empty());

        String reply = exchange(port, 50_000, 50_000, false);

        assertTrue(reply.startsWith("HTTP/1.1 200"), reply);
        assertTrue(reply.endsWith("50000"), reply);
        assertEquals(50_000, Files.size(dir.resolve("upload.part")));
        assertEquals(50_000, digested.get());
    }

    @Test
    void uploadThatStopsSending_isAnswered408AfterTheIdleTimeout_andTheConnectionClosed() throws Exception {
        int port = serve(100_000, received -> Optional.empty());

        String reply = exchange(port, 50_000, 1_000, true);

        assertTrue(reply.startsWith("HTTP/1.1 408"), reply);
        assertTrue(reply.contains("the upload sent nothing for 300 ms after 1000 bytes; it was dropped"), reply);
        assertTrue(reply.toLowerCase().contains("connection: close"), reply);
    }

    @Test
    void uploadPastTheLimit_isAnswered413() throws Exception {
        int port = serve(10_000, received -> Optional.empty());

        String reply = exchange(port, 50_000, 50_000, false);

        assertTrue(reply.startsWith("HTTP/1.1 413"), reply);
    }

    @Test
    void uploadWhenTheDiskIsBelowItsFloor_isAnswered507BeforeAByteIsWritten() throws Exception {
        int port = serve(100_000, received -> Optional.of("not enough disk space for this upload"));

        String reply = exchange(port, 50_000, 50_000, false);

        assertTrue(reply.startsWith("HTTP/1.1 507"), reply);
        assertEquals(0, Files.size(dir.resolve("upload.part")));
    }

    private int serve(long maxBytes, LongFunction<Optional<String>> disk) throws Exception {
        HttpServer server = vertx.createHttpServer().requestHandler(req -> {
            req.pause();
            vertx.fileSystem().open(dir.resolve("upload.part").toString(), new OpenOptions().setWrite(true)
                    .setCreate(true)).onSuccess((AsyncFile file) -> UploadStream.pipe(req, file, vertx,
                            new UploadStream.Options(maxBytes, IDLE, disk), chunk -> digested.addAndGet(chunk.length()))
                    .onComplete(ar -> file.close().onComplete(x -> {
                        if (ar.succeeded()) {
                            req.response().end(Long.toString(ar.result()));
                        } else {
                            ErrorMapper.send(req.response(), ErrorMapper.toGantry(ar.cause()));
                        }
                    })));
        });
        return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
                .actualPort();
    }

    /** Declares {@code declared} bytes, sends {@code sent}, then (when {@code stall}) waits; returns the reply. */
    private static String exchange(int port, int declared, int sent, boolean stall) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + declared + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            try {
                out.write(new byte[sent]);
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before reading everything
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    reply.write(buf, 0, n);
                    String text = reply.toString(StandardCharsets.UTF_8);
                    int body = text.indexOf("\r\n\r\n");
                    int length = text.toLowerCase().indexOf("content-length: ");
                    if (body > 0 && length > 0) {
                        int end = text.indexOf("\r\n", length);
                        int expected = Integer.parseInt(text.substring(length + 16, end).trim());
                        if (text.length() - body - 4 >= expected) {
                            break;
                        }
                    }
                }
            } catch (IOException e) {
                // reset after the reply
            }
            return reply.toString(StandardCharsets.UTF_8);
        }
    }
}
