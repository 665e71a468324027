package dev.gantry.bench.load;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.vertx.core.http.HttpConnection;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Caps the {@code Keep-Alive: timeout=N} a server advertises at the client's own idle limit, so a connection is
 * never kept idle longer than the client wants (see {@link HttpLoadGenerator}). Installed in front of Vert.x's
 * own handler of each HTTP/1.1 client connection; Vert.x has no public hook for this, so it reaches the Netty
 * pipeline through its connection implementation and, should that ever change, warns once and leaves the
 * connection as it is (Vert.x then honours the server's value).
 */
final class KeepAliveCap extends ChannelInboundHandlerAdapter {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    /** Name of Vert.x's connection handler in an HTTP/1.1 client pipeline. */
    private static final String VERTX_HANDLER = "handler";

    private final int maxSeconds;

    private KeepAliveCap(int maxSeconds) {
        this.maxSeconds = maxSeconds;
    }

    static void install(HttpConnection connection, int maxSeconds) {
        try {
            var pipeline = ((io.vertx.core.net.impl.ConnectionBase) connection).channel().pipeline();
            if (pipeline.get(VERTX_HANDLER) == null) {
                throw new IllegalStateException("no '" + VERTX_HANDLER + "' in " + pipeline.names());
            }
            pipeline.addBefore(VERTX_HANDLER, "gantry-bench-keep-alive-cap", new KeepAliveCap(maxSeconds));
        } catch (RuntimeException e) {
            if (WARNED.compareAndSet(false, true)) {
                System.out.println("warning: cannot cap the server's Keep-Alive timeout at " + maxSeconds + " s (" + e
                        + "); idle connections live as long as the server advertises");
            }
        }
    }

    /** Whether installing the cap has failed on some connection. */
    static boolean installFailed() {
        return WARNED.get();
    }

    /** The timeout to keep: the server's when it is shorter than ours, else ours. */
    static String capped(String header, int maxSeconds) {
        int advertised = io.vertx.core.http.impl.HttpUtils.parseKeepAliveHeaderTimeout(header);
        return "timeout=" + (advertised >= 1 && advertised < maxSeconds ? advertised : maxSeconds);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse response) {
            String header = response.headers().get(HttpHeaderNames.KEEP_ALIVE);
            if (header != null) {
                response.headers().set(HttpHeaderNames.KEEP_ALIVE, capped(header, maxSeconds));
            }
        }
        ctx.fireChannelRead(msg);
    }
}
