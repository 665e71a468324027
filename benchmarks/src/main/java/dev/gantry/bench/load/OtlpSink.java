package dev.gantry.bench.load;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * An OTLP/HTTP collector that accepts and discards every export, so the tracing arm pays for creating,
 * batching, encoding and sending its spans, but not for a real collector's work. Started once, on loopback.
 */
final class OtlpSink {
    private static OtlpSink instance;

    private final HttpServer server;

    private OtlpSink(HttpServer server) {
        this.server = server;
    }

    /** The sink's base URL (what --otlp-endpoint takes), starting it on first use. */
    static synchronized String endpoint() {
        if (instance == null) {
            try {
                HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
                s.setExecutor(Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon(true)
                        .name("otlp-sink").unstarted(r)));
                s.createContext("/", exchange -> {
                    try (InputStream in = exchange.getRequestBody()) {
                        in.transferTo(java.io.OutputStream.nullOutputStream());
                    }
                    exchange.sendResponseHeaders(200, -1);
                    exchange.close();
                });
                s.start();
                instance = new OtlpSink(s);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the OTLP sink", e);
            }
        }
        return "http://127.0.0.1:" + instance.server.getAddress().getPort();
    }

    /** Stops the sink if it was started (its dispatcher thread would keep the JVM alive). */
    static synchronized void stop() {
        if (instance != null) {
            instance.server.stop(0);
            instance = null;
        }
    }
}
