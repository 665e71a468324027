package dev.gantry.http.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;

/**
 * Open-loop load for HTTP tests: POSTs sent at a fixed rate on a schedule that does not wait for answers (request
 * i is due at start + i / rate), as real clients arrive, so a slow or hung version cannot slow the senders down
 * and hide itself. Records every status, the answers that carry {@code Gantry-Fallback}, and the latency from
 * each request's scheduled time (so queueing behind a stall is counted, not omitted).
 */
public final class OpenLoopLoad implements AutoCloseable {
    /*
     * One scheduler thread parks until each request's due time and hands it to the JDK client asynchronously
     * (HTTP/1.1: the client opens a connection per concurrent request and keeps idle ones). In-flight requests are
     * bounded by maxInFlight so a hung server cannot exhaust the test's sockets: a request due while the bound is
     * reached is not sent and is counted in skipped() (the schedule goes on; nothing waits). Transport failures
     * count under status 0.
     */
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    private final AtomicLong fallbacks = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong maxLatencyNanos = new AtomicLong();
    private final Semaphore inFlight;
    private final int maxInFlight;
    private final Thread scheduler;
    private volatile boolean stop;
    private boolean closed;

    private OpenLoopLoad(URI target, double ratePerSecond, int maxInFlight, long maxRequests,
                         Map<String, String> headers, LongFunction<String> body) {
        if (!(ratePerSecond > 0 && ratePerSecond <= 10_000)) {
            throw new IllegalArgumentException("rate must be in (0, 10000] per second, was " + ratePerSecond);
        }
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        long interval = (long) (1e9 / ratePerSecond);
        scheduler = Thread.ofPlatform().name("open-loop-" + target.getPath()).start(() -> {
            long start = System.nanoTime();
            for (long i = 0; !stop && i < maxRequests; i++) {
                long due = start + i * interval;
                for (long wait = due - System.nanoTime(); wait > 0 && !stop; wait = due - System.nanoTime()) {
                    LockSupport.parkNanos(wait);
                }
                if (stop) {
                    return;
                }
                if (!inFlight.tryAcquire()) {
                    skipped.incrementAndGet();
                    continue;
                }
                HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.apply(i)));
                headers.forEach(b::header);
                sent.incrementAndGet();
                client.sendAsync(b.build(), HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                    maxLatencyNanos.accumulateAndGet(System.nanoTime() - due, Math::max);
                    int status = e != null ? 0 : r.statusCode();
                    statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                    if (r != null && r.headers().firstValue("Gantry-Fallback").isPresent()) {
                        fallbacks.incrementAndGet();
                    }
                    inFlight.release();
                });
            }
        });
    }

    /**
     * Starts sending to {@code target} at {@code ratePerSecond}, at most {@code maxRequests} requests and at most
     * {@code maxInFlight} unanswered at once; request i's body is {@code body.apply(i)}.
     */
    public static OpenLoopLoad start(URI target, double ratePerSecond, int maxInFlight, long maxRequests,
                                     Map<String, String> headers, LongFunction<String> body) {
        return new OpenLoopLoad(target, ratePerSecond, maxInFlight, maxRequests, headers, body);
    }

    /** Requests sent so far. */
    public long sent() {
        return sent.get();
    }

    /** Requests that were due while {@code maxInFlight} were unanswered, and so were not sent. */
    public long skipped() {
        return skipped.get();
    }

    /** Answers that came from a fallback version (they carry {@code Gantry-Fallback}). */
    public long fallbacks() {
        return fallbacks.get();
    }

    /** Answers by status (0: no HTTP answer), sorted. */
    public Map<Integer, Long> statuses() {
        Map<Integer, Long> out = new TreeMap<>();
        statuses.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Answers with a status other than 200. */
    public long notOk() {
        return statuses().entrySet().stream().filter(e -> e.getKey() != 200).mapToLong(Map.Entry::getValue).sum();
    }

    /** The longest time from a request's scheduled start to its answer so far, in milliseconds. */
    public long maxLatencyMillis() {
        return TimeUnit.NANOSECONDS.toMillis(maxLatencyNanos.get());
    }

    /** A one-line account for assertion messages. */
    public String describe() {
        return "sent " + sent() + ", skipped " + skipped() + ", statuses " + statuses() + ", fallbacks " + fallbacks()
                + ", max latency " + maxLatencyMillis() + " ms";
    }

    /** Stops sending and waits (up to 60 s) until every sent request has its answer. */
    @Override
    public synchronized void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        stop = true;
        LockSupport.unpark(scheduler);
        scheduler.join();
        if (inFlight.tryAcquire(maxInFlight, 60, TimeUnit.SECONDS)) {
            inFlight.release(maxInFlight);
        }
        client.close();
    }
}
