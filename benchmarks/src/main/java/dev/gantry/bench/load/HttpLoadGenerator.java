package dev.gantry.bench.load;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives one server with repeated requests, open loop or closed loop, from one Vert.x event loop: HTTP/1.1
 * requests on its HTTP port and, for {@link LoadRequest#grpc()} requests, gRPC unary calls over HTTP/2 (cleartext,
 * prior knowledge, as gRPC clients connect) on its gRPC port.
 *
 * <p>Use one instance per target server; {@link #openLoop} and {@link #closedLoop} block the caller until
 * the run is over and may not overlap.
 */
public final class HttpLoadGenerator implements AutoCloseable {
    /** The error kind of an open-loop request not sent because too many were already in flight. */
    static final String CLIENT_BACKLOG = "client-backlog";
    /*
     * Open loop. Request i is due at start + i / rate, whatever happened to earlier requests: a pacer thread
     * sleeps until each due time and hands the send to the event loop. Latency is measured from the due time
     * (the "intended start"), not from when the request actually left, so a server stall that holds requests
     * back is charged to every request that should have been sent during it - the coordinated-omission
     * correction. Service time (from the actual send) is recorded alongside to show the difference.
     *
     * Requests are never skipped to keep pace: if the pacer wakes late it sends everything now due. Only when
     * more than maxInFlight requests are outstanding is a due request dropped and counted as an error
     * ("client-backlog"), so a saturated server cannot make the generator run out of memory.
     *
     * Closed loop. `concurrency` request chains; each sends its next request when the previous answer arrives.
     * Its latency is service time; it measures capacity, never latency under a given load.
     */
    /*
     * Idle connections. A server may close a kept-alive connection that has been idle for a while (Gantry: no
     * complete request head within --header-timeout-ms, default 10 s, of its previous response); a request
     * written on such a connection at that moment fails ("connection closed before answer"). The client
     * therefore retires a connection after IDLE_LIMIT without a request, well before any server would, and
     * earlier still when the server asks for less. Vert.x takes the idle limit from HttpClientOptions, and its
     * HTTP/1.1 connection code also lets a response's "Keep-Alive: timeout=N" header replace it, even with a
     * longer N (Gantry sends timeout=9). With Vert.x 5.0.7 the option's limit held in our test anyway, but so
     * that it holds whatever Vert.x does with the header, a small handler in each connection's pipeline caps
     * the header at our own limit before Vert.x reads it (KeepAliveCap).
     * The pool hands out the most recently used connection first, so in a steady run idle connections are the
     * surplus ones, and they are closed by the pool's cleaner (every second) once expired.
     */
    /** Default idle limit of a pooled connection. */
    public static final Duration IDLE_LIMIT = Duration.ofSeconds(4);
    private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(5);
    private static final String VERSION_HEADER = "Gantry-Model-Version";

    /** gRPC: HTTP/2 connections to the gRPC port; each carries up to the server's 100 concurrent streams. */
    private static final int GRPC_CONNECTIONS = 4;

    private final Vertx vertx;
    private final HttpClient client;
    private final HttpClient grpcClient;
    private final int grpcPort;
    private final Context context;
    private final String host;
    private final int port;
    private final Duration requestTimeout;
    private final int maxInFlight;

    /**
     * @param connections the most connections to the server (HTTP/1.1 keep-alive, no pipelining)
     * @param requestTimeout a request with no answer by then fails as {@code timeout}
     * @param maxInFlight open loop: outstanding requests above which due requests are dropped
     */
    public HttpLoadGenerator(String host, int port, int connections, Duration requestTimeout, int maxInFlight) {
        this(host, port, connections, requestTimeout, maxInFlight, IDLE_LIMIT);
    }

    /**
     * @param idleLimit how long a pooled connection may stay idle before the client closes it (whole seconds,
     *     at least 1); a server's shorter {@code Keep-Alive: timeout} wins
     */
    public HttpLoadGenerator(String host, int port, int connections, Duration requestTimeout, int maxInFlight,
                             Duration idleLimit) {
        this(host, port, connections, requestTimeout, maxInFlight, idleLimit, -1);
    }

    /** @param grpcPort the server's gRPC port, for gRPC requests; -1 when it has none */
    public HttpLoadGenerator(String host, int port, int connections, Duration requestTimeout, int maxInFlight,
                             Duration idleLimit, int grpcPort) {
        this(host, port, connections, requestTimeout, maxInFlight, idleLimit, grpcPort, true);
    }

    /**
     * @param nativeTransport false to use Netty's NIO transport even where epoll is available: the open loop then
     *     paces with the thread pacer, as on machines without the native transport (the tests run both)
     */
    HttpLoadGenerator(String host, int port, int connections, Duration requestTimeout, int maxInFlight,
                      Duration idleLimit, int grpcPort, boolean nativeTransport) {
        int idleSeconds = Math.toIntExact(idleLimit.toSeconds());
        if (idleSeconds < 1) {
            throw new IllegalArgumentException("idleLimit must be at least 1 s, was " + idleLimit);
        }
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setPreferNativeTransport(nativeTransport));
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions().setKeepAlive(true).setKeepAliveTimeout(idleSeconds)
                        .setPipelining(false).setTcpNoDelay(true).setMaxInitialLineLength(8192))
                .with(new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1))
                .withConnectHandler(connection -> KeepAliveCap.install(connection, idleSeconds))
                .build();
        this.grpcClient = vertx.httpClientBuilder()
                .with(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
                        .setTcpNoDelay(true).setHttp2KeepAliveTimeout(idleSeconds)
                        .setInitialSettings(new Http2Settings().setInitialWindowSize(4 << 20)))
                .with(new PoolOptions().setHttp2MaxSize(GRPC_CONNECTIONS).setMaxWaitQueueSize(-1))
                .build();
        this.grpcPort = grpcPort;
        this.context = vertx.getOrCreateContext();
        this.host = host;
        this.port = port;
        this.requestTimeout = requestTimeout;
        this.maxInFlight = maxInFlight;
    }

    /** Whether the client runs on Netty's native transport, which decides the open loop's pacer. */
    boolean nativeTransport() {
        return vertx.isNativeTransportEnabled();
    }

    /** Sends {@code rate} requests per second for {@code duration}, then waits for the answers. */
    public Measurement openLoop(LoadRequest request, double rate, Duration duration) throws InterruptedException {
        return openLoop(request, rate, duration, () -> { });
    }

    /**
     * The same; {@code paced} runs on the calling thread once the last request is due (sent or dropped), before the
     * answers still outstanding are awaited: what the caller measures up to then covers the pacing alone.
     */
    public Measurement openLoop(LoadRequest request, double rate, Duration duration, Runnable paced)
            throws InterruptedException {
        return openLoop(request, rate, duration, paced, null);
    }

    /** The same, each 200 answer also recorded in {@code timeline} (null for none) by its intended send time. */
    Measurement openLoop(LoadRequest request, double rate, Duration duration, Runnable paced, Timeline timeline)
            throws InterruptedException {
        if (rate <= 0) {
            throw new IllegalArgumentException("rate must be positive, was " + rate);
        }
        long total = Math.max(1, Math.round(rate * duration.toNanos() / 1e9));
        double intervalNanos = 1e9 / rate;
        Run run = new Run(total);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        run.start = start;
        if (timeline != null) {
            timeline.begin(start);
            run.timeline = timeline;
        }
        long maxLag = 0;
        if (nativeTransport()) {
            LoopPacer pacer = new LoopPacer(request, run, start, intervalNanos, total);
            context.runOnContext(v -> pacer.run());
            pacer.paced.await();
            paced.run();
            awaitAnswers(run);
            return run.toMeasurement("open", rate, 0, TimeUnit.NANOSECONDS.toMicros(pacer.maxLag));
        }
        for (long i = 0; i < total; ) {
            long intended = start + (long) (i * intervalNanos);
            long now = System.nanoTime();
            while (now < intended) {
                LockSupport.parkNanos(intended - now);
                now = System.nanoTime();
            }
            maxLag = Math.max(maxLag, now - intended);
            // Every request due by now goes to the client's event loop in one task, each with its own intended
            // time: one hand-off per wake-up, not per request. One per request cost the client core a pair of
            // context switches per request, which capped the open loop near 20,000 req/s on two cores (the
            // ceiling arm, a canned-body server, then answered 21,415 of 26,826 req/s offered, p99 1.2 s).
            long end = i + 1;
            while (end < total && start + (long) (end * intervalNanos) <= now) {
                end++;
            }
            long[] due = new long[(int) (end - i)];
            int n = 0;
            for (long j = i; j < end; j++) {
                if (admit(run)) {
                    due[n++] = start + (long) (j * intervalNanos);
                }
            }
            i = end;
            if (n > 0) {
                int count = n;
                context.runOnContext(v -> {
                    for (int k = 0; k < count; k++) {
                        send(request, run, due[k], null);
                    }
                });
            }
        }
        paced.run();
        awaitAnswers(run);
        return run.toMeasurement("open", rate, 0, TimeUnit.NANOSECONDS.toMicros(maxLag));
    }

    /*
     * The open loop's pacer, run on the client's event loop itself with Netty's nanosecond timers (epoll's
     * timerfd): each wake-up sends every request due by then, each stamped with its own intended time, and
     * schedules the next. The thread pacer below hands each wake-up's requests to the event loop across
     * threads, a context-switch pair and an eventfd write per wake-up on the generator's one core, and showed
     * 60-110 ms of pacer lag at every window start. Most of the generator's cost per request is the HTTP client
     * itself, which this does not change: with either pacer the generator's core, not the server's, saturates
     * first in open loop on two cores (benchmarks/results/open-loop-warmup-20261130.txt). Where only NIO is
     * available (timers of a millisecond), the thread pacer stays.
     */
    private final class LoopPacer implements Runnable {
        private final LoadRequest request;
        private final Run run;
        private final long start;
        private final double intervalNanos;
        private final long total;
        private final io.netty.channel.EventLoop loop;
        final CountDownLatch paced = new CountDownLatch(1);
        private long next;
        volatile long maxLag;

        LoopPacer(LoadRequest request, Run run, long start, double intervalNanos, long total) {
            this.request = request;
            this.run = run;
            this.start = start;
            this.intervalNanos = intervalNanos;
            this.total = total;
            this.loop = ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop();
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            long intended = start + (long) (next * intervalNanos);
            if (intended > now) {
                loop.schedule(this, intended - now, TimeUnit.NANOSECONDS);
                return;
            }
            maxLag = Math.max(maxLag, now - intended);
            for (; next < total && (intended = start + (long) (next * intervalNanos)) <= now; next++) {
                if (admit(run)) {
                    send(request, run, intended, null);
                }
            }
            if (next < total) {
                loop.schedule(this, Math.max(0, intended - System.nanoTime()), TimeUnit.NANOSECONDS);
            } else {
                paced.countDown();
            }
        }
    }

    /** Open loop: counts a due request as in flight, or as dropped ("client-backlog") above maxInFlight. */
    private boolean admit(Run run) {
        if (run.inFlight.get() >= maxInFlight) {
            run.fail(CLIENT_BACKLOG);
            return false;
        }
        run.inFlight.incrementAndGet();
        return true;
    }

    /** Keeps {@code concurrency} requests outstanding for {@code duration}. */
    public Measurement closedLoop(LoadRequest request, int concurrency, Duration duration)
            throws InterruptedException {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
        }
        Run run = new Run(-1);
        run.start = System.nanoTime();
        long deadline = run.start + duration.toNanos();
        CountDownLatch chains = new CountDownLatch(concurrency);
        for (int c = 0; c < concurrency; c++) {
            context.runOnContext(v -> chain(request, run, deadline, chains));
        }
        if (!chains.await(duration.toNanos() + requestTimeout.toNanos() * 2, TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException("closed loop did not finish within " + duration.plus(requestTimeout));
        }
        return run.toMeasurement("closed", 0, concurrency, 0);
    }

    private void chain(LoadRequest request, Run run, long deadline, CountDownLatch chains) {
        if (System.nanoTime() - deadline >= 0) {
            chains.countDown();
            return;
        }
        run.sent.incrementAndGet();
        run.inFlight.incrementAndGet();
        send(request, run, System.nanoTime(), () -> chain(request, run, deadline, chains));
    }

    private void send(LoadRequest request, Run run, long intended, Runnable next) {
        long sentAt = System.nanoTime();
        if (next == null) {
            run.sent.incrementAndGet();
        }
        if (request.grpc()) {
            sendGrpc(request, run, intended, sentAt, next);
            return;
        }
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
                .setURI(request.path()).setIdleTimeout(requestTimeout.toMillis())
                .putHeader("content-type", request.headerLength().isPresent()
                        ? "application/octet-stream" : "application/json");
        request.headerLength().ifPresent(n -> options.putHeader("Inference-Header-Content-Length",
                Long.toString(n)));
        client.request(options)
                .compose(r -> r.send(request.body()))
                .compose(response -> response.body().map(body -> {
                    String version = response.getHeader(VERSION_HEADER);
                    if (version != null && response.statusCode() == 200) {
                        run.servedBy.computeIfAbsent(version, k -> new LongAdder()).increment();
                    }
                    return response.statusCode();
                }))
                .onComplete(ar -> complete(ar, run, intended, sentAt, next));
    }

    /**
     * One gRPC unary call: POST to the method's path with the framed message; the answer succeeded when the HTTP
     * status is 200 and grpc-status (a trailer, or a header in a trailers-only answer) is 0.
     */
    private void sendGrpc(LoadRequest request, Run run, long intended, long sentAt, Runnable next) {
        if (grpcPort <= 0) {
            complete(io.vertx.core.Future.succeededFuture(0), run, intended, sentAt, next);
            return;
        }
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(grpcPort)
                .setURI(request.path()).setIdleTimeout(requestTimeout.toMillis())
                .putHeader("content-type", "application/grpc").putHeader("te", "trailers");
        grpcClient.request(options)
                .compose(r -> r.send(request.body()))
                .compose(response -> response.body().map(body -> {
                    String status = response.getTrailer("grpc-status");
                    if (status == null) {
                        status = response.getHeader("grpc-status");
                    }
                    if (response.statusCode() != 200) {
                        return response.statusCode();
                    }
                    if (!"0".equals(status)) {
                        return GRPC_FAILED - (status == null ? 2 : Integer.parseInt(status));
                    }
                    String version = response.getHeader("gantry-model-version");
                    if (version != null) {
                        run.servedBy.computeIfAbsent(version, k -> new LongAdder()).increment();
                    }
                    return 200;
                }))
                .onComplete(ar -> complete(ar, run, intended, sentAt, next));
    }

    /** Below this, an outcome is a failed gRPC status: GRPC_FAILED - status. */
    private static final int GRPC_FAILED = -1;

    private void complete(io.vertx.core.AsyncResult<Integer> ar, Run run, long intended, long sentAt,
                          Runnable next) {
        long end = System.nanoTime();
        if (ar.succeeded() && ar.result() == 200) {
            if (run.timeline != null) {
                // before succeed, whose latch orders this write before the reader
                run.timeline.record(intended, TimeUnit.NANOSECONDS.toMicros(end - intended));
            }
            run.succeed(end - intended, end - sentAt, end);
        } else if (ar.succeeded() && ar.result() == 0) {
            run.fail("no-grpc-port");
        } else if (ar.succeeded() && ar.result() <= GRPC_FAILED) {
            run.fail("grpc-status-" + (GRPC_FAILED - ar.result()));
        } else if (ar.succeeded()) {
            run.fail("status-" + ar.result());
        } else {
            run.fail(kind(ar.cause()));
        }
        run.inFlight.decrementAndGet();
        if (next != null) {
            next.run();
        }
    }

    private static String kind(Throwable t) {
        if (t instanceof TimeoutException || t instanceof io.netty.handler.timeout.TimeoutException
                || String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timeout")) {
            return "timeout";
        }
        if (t instanceof java.net.ConnectException) {
            return "connect";
        }
        return t.getClass().getSimpleName();
    }

    private void awaitAnswers(Run run) throws InterruptedException {
        if (!run.done.await(requestTimeout.toNanos() * 2 + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException(run.done.getCount() + " requests neither answered nor failed after "
                    + requestTimeout.multipliedBy(2) + "; the HTTP client is stuck");
        }
    }

    /** Blocks until {@code GET path} answers 200 or {@code timeout} passes. */
    public boolean awaitStatus200(String path, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Future<Integer> f = client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(host)
                            .setPort(port).setURI(path))
                    .compose(r -> r.send())
                    .compose(resp -> resp.body().map(b -> resp.statusCode()));
            try {
                if (f.toCompletionStage().toCompletableFuture().get(2, TimeUnit.SECONDS) == 200) {
                    return true;
                }
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        return false;
    }

    @Override
    public void close() {
        client.close().toCompletionStage().toCompletableFuture().join();
        grpcClient.close().toCompletionStage().toCompletableFuture().join();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /** The counters of one run; written from the event loop, read after it. */
    private static final class Run {
        final Recorder latency = new Recorder(HIGHEST_MICROS, 3);
        final Recorder service = new Recorder(HIGHEST_MICROS, 3);
        final AtomicLong sent = new AtomicLong();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        final Map<String, LongAdder> servedBy = new ConcurrentHashMap<>();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong lastAnswer = new AtomicLong();
        final CountDownLatch done;
        long start;
        /** Open loop: where each 200 answer's latency is also recorded, or null. */
        Timeline timeline;

        Run(long expected) {
            this.done = new CountDownLatch(expected < 0 ? 0 : Math.toIntExact(expected));
        }

        void succeed(long latencyNanos, long serviceNanos, long at) {
            latency.recordValue(Math.min(HIGHEST_MICROS, TimeUnit.NANOSECONDS.toMicros(latencyNanos)));
            service.recordValue(Math.min(HIGHEST_MICROS, TimeUnit.NANOSECONDS.toMicros(serviceNanos)));
            ok.incrementAndGet();
            lastAnswer.accumulateAndGet(at, Math::max);
            done.countDown();
        }

        void fail(String kind) {
            errors.incrementAndGet();
            errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
            lastAnswer.accumulateAndGet(System.nanoTime(), Math::max);
            done.countDown();
        }

        Measurement toMeasurement(String mode, double rate, int concurrency, long maxLagMicros) {
            Map<String, Long> kinds = new java.util.HashMap<>();
            errorKinds.forEach((k, v) -> kinds.put(k, v.sum()));
            Histogram l = latency.getIntervalHistogram();
            Histogram s = service.getIntervalHistogram();
            double elapsed = Math.max(0, lastAnswer.get() - start) / 1e9;
            long sentCount = mode.equals("open") ? sent.get() + kinds.getOrDefault(CLIENT_BACKLOG, 0L) : sent.get();
            Map<String, Long> versions = new java.util.HashMap<>();
            servedBy.forEach((k, v) -> versions.put(k, v.sum()));
            return new Measurement(mode, rate, concurrency, elapsed, sentCount, ok.get(), errors.get(), kinds, l, s,
                    maxLagMicros, versions);
        }
    }
}
