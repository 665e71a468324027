package dev.gantry.http.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.gantry.http.auth.Caller;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The structured access log: one JSON line per request (time, caller, method, path, model, version, status,
 * duration, bytes in and out, remote address), written by its own thread so the event loop never waits on
 * the disk. When the writer falls behind by more than {@link #CAPACITY} lines, lines are dropped and counted.
 */
public final class AccessLog implements AutoCloseable {
    /** Routing-context key under which the inference handler records the version that served. */
    public static final String VERSION_KEY = "gantry.version";
    /** The model a request named in its body (the OpenAI routes), when no path parameter names it. */
    public static final String MODEL_KEY = "gantry.model";
    /** Routing-context key of the fallback that answered ("from=2; reason=timeout"), when one did. */
    public static final String FALLBACK_KEY = "gantry.fallback";
    static final int CAPACITY = 65_536;
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final String POISON = "";

    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(CAPACITY);
    private final Writer out;
    private final Thread writer;
    private final Counter dropped;
    private volatile boolean closed;

    private AccessLog(Writer out, MeterRegistry registry) {
        this.out = out;
        this.dropped = Counter.builder("accesslog.dropped").description("Access log lines dropped: writer behind")
                .register(registry);
        this.writer = Thread.ofPlatform().daemon(true).name("gantry-access-log").unstarted(this::drain);
        writer.start();
    }

    /** {@code destination}: "stdout", "off" (null returned), or a file path (appended to). */
    public static AccessLog open(String destination, MeterRegistry registry) throws IOException {
        if (destination.equals("off")) {
            return null;
        }
        Writer w;
        if (destination.equals("stdout")) {
            w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        } else {
            Path p = Path.of(destination);
            if (p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            w = Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return new AccessLog(w, registry);
    }

    /**
     * A router handler that logs every request when its response ends (or its connection closes), except the
     * server's own start-up warm-up ({@link WarmupRequests}).
     */
    public Handler<RoutingContext> handler() {
        return ctx -> {
            if (WarmupRequests.isWarmup(ctx.request())) {
                ctx.next(); // the server's own start-up warm-up
                return;
            }
            long start = System.nanoTime();
            ctx.addEndHandler(ar -> record(ctx, start));
            ctx.next();
        };
    }

    private void record(RoutingContext ctx, long start) {
        HttpServerRequest req = ctx.request();
        Caller caller = ctx.get(Caller.CONTEXT_KEY);
        Object version = ctx.get(VERSION_KEY);
        StringWriter sw = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(sw)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.now().toString());
            g.writeStringField("caller", caller == null ? "anonymous" : caller.name());
            g.writeStringField("method", req.method().name());
            g.writeStringField("path", req.path());
            String model = ctx.pathParam("model") != null ? ctx.pathParam("model") : ctx.get(MODEL_KEY);
            if (model != null) {
                g.writeStringField("model", model);
            }
            if (version != null) {
                g.writeStringField("version", version.toString());
            } else if (ctx.pathParam("version") != null) {
                g.writeStringField("version", ctx.pathParam("version"));
            }
            Object fallback = ctx.get(FALLBACK_KEY);
            if (fallback != null) {
                g.writeStringField("fallback", fallback.toString());
            }
            g.writeNumberField("status", ctx.response().getStatusCode());
            g.writeNumberField("duration_ms", (System.nanoTime() - start) / 1e6);
            g.writeNumberField("bytes_in", req.bytesRead());
            g.writeNumberField("bytes_out", ctx.response().bytesWritten());
            if (req.remoteAddress() != null) {
                g.writeStringField("remote", req.remoteAddress().hostAddress());
            }
            g.writeEndObject();
        } catch (IOException e) {
            return;
        }
        if (closed || !lines.offer(sw.toString())) {
            dropped.increment();
        }
    }

    private void drain() {
        List<String> batch = new ArrayList<>(256);
        try {
            while (true) {
                String first = lines.take();
                if (first == POISON) {
                    break;
                }
                batch.add(first);
                lines.drainTo(batch, 1023);
                boolean stop = false;
                for (String line : batch) {
                    if (line == POISON) {
                        stop = true;
                        break;
                    }
                    out.write(line);
                    out.write('\n');
                }
                batch.clear();
                if (lines.isEmpty()) {
                    out.flush();
                }
                if (stop) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.error("access log writer failed; further lines are dropped", e);
            closed = true;
        } finally {
            try {
                out.flush();
            } catch (IOException ignored) {
                // nothing more can be done for the log
            }
        }
    }

    /** Writes what is queued and stops the writer. */
    @Override
    public void close() {
        closed = true;
        try {
            lines.put(POISON);
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
