package dev.gantry.http.inference;

import dev.gantry.http.hardening.RawHttp;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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
    /*
     * The clients are the JDK's and a raw socket. This test used Vert.x's client with a compose() chain built on
     * the test thread: when the response had already arrived by the time the chain reached body(), its bytes had
     * gone to no handler and body() never completed (4 hangs in 400 runs with two busy processes beside it, over
     * HTTP/1.1 and HTTP/2; the server had written every response). StartupWarmup builds its chain on the event
     * loop, where the response cannot overtake it.
     */
    private Vertx vertx;
    private HttpServer server;
    private final List<Buffer> chunks = new CopyOnWriteArrayList<>();
    private final List<HttpVersion> posts = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> {
            if (req.method() == HttpMethod.POST) {
                posts.add(req.version());
                req.handler(chunks::add);
            }
            req.endHandler(v -> req.response().end("ok"));
        }).listen(0, "127.0.0.1").await(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = HttpVersion.class, names = {"HTTP_1_1", "HTTP_2"})
    void requestChunks_areUnpooledHeapBuffersOfTheirOwn(HttpVersion version) throws Exception {
        byte[] first = new byte[40_000];
        new Random(1).nextBytes(first);
        byte[] second = new byte[40_000];
        new Random(2).nextBytes(second);
        List<Buffer> firstChunks;
        if (version == HttpVersion.HTTP_2) {
            // cleartext HTTP/2 by upgrade: the JDK client upgrades on a request without a body, then both bodies
            // go over the HTTP/2 connection
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            URI uri = URI.create("http://127.0.0.1:" + server.actualPort() + "/");
            assertEquals(HttpClient.Version.HTTP_2, client.send(HttpRequest.newBuilder(uri).GET()
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).version());
            post(client, uri, first);
            firstChunks = new ArrayList<>(chunks);
            post(client, uri, second);
        } else {
            try (Socket s = RawHttp.connect(server.actualPort(), 30_000)) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                post(s, in, first);
                firstChunks = new ArrayList<>(chunks);
                post(s, in, second);
            }
        }
        assertEquals(List.of(version, version), posts, "the versions the two bodies arrived over");

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

    private static void post(HttpClient client, URI uri, byte[] body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode());
    }

    /** One POST on a kept-alive HTTP/1.1 connection, in one write (its body arrives in several reads). */
    private static void post(Socket s, InputStream in, byte[] body) throws IOException {
        s.getOutputStream().write(RawHttp.request("POST", "/", "", body));
        RawHttp.Reply reply = RawHttp.read(in);
        assertEquals(200, reply.status(), reply.toString());
    }
}
