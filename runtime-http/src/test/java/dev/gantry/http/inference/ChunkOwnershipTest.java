package dev.gantry.http.inference;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What BodyReader relies on to keep a body's one chunk instead of copying it: Vert.x hands request chunks over as
 * unpooled heap buffers (or views of one), over HTTP/1 and HTTP/2, which nothing reuses once the request is read.
 * If a Vert.x upgrade hands over pooled buffers or views of them instead, this fails, and BodyReader must copy
 * again.
 */
class ChunkOwnershipTest {
    private Vertx vertx;
    private HttpServer server;
    private final List<Buffer> chunks = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> {
            req.handler(chunks::add);
            req.endHandler(v -> req.response().end("ok"));
        }).listen(0, "127.0.0.1").await();
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    @ParameterizedTest
    @EnumSource(value = HttpVersion.class, names = {"HTTP_1_1", "HTTP_2"})
    void requestChunks_areUnpooledHeapBuffersOfTheirOwn(HttpVersion version) {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(version)
                .setHttp2ClearTextUpgrade(false));
        byte[] first = new byte[40_000];
        new Random(1).nextBytes(first);
        byte[] second = new byte[40_000];
        new Random(2).nextBytes(second);
        send(client, first);
        List<Buffer> firstChunks = new ArrayList<>(chunks);
        send(client, second);

        assertTrue(firstChunks.size() > 1, "a 40 KB body should arrive in several chunks, got " + firstChunks.size());
        for (Buffer chunk : chunks) {
            if (chunk.length() == 0) {
                continue;
            }
            // the buffer under any views (Vert.x wraps its copy in a slice of the same size)
            ByteBuf root = ((BufferInternal) chunk).getByteBuf();
            while (root.unwrap() != null) {
                root = root.unwrap();
            }
            assertTrue(root.hasArray(), "a chunk must be on the heap: " + root);
            assertFalse(root.alloc() instanceof PooledByteBufAllocator
                            || root.alloc() instanceof AdaptiveByteBufAllocator,
                    "a chunk must not come from a pool: " + root.alloc() + " (" + root + ")");
            assertEquals(1, root.refCnt());
        }
        // what the first request's chunks hold is still its body after the second request went through
        Buffer whole = Buffer.buffer();
        firstChunks.forEach(whole::appendBuffer);
        assertArrayEquals(first, whole.getBytes());
    }

    private void send(HttpClient client, byte[] body) {
        client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                        .setPort(server.actualPort()).setURI("/"))
                .compose(r -> r.send(Buffer.buffer(body)))
                .compose(r -> r.body())
                .await();
    }
}
