package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.metrics.MetricNames;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A server-wide budget for the bytes of request bodies held in memory: each admitted request holds the memory
 * its body takes (what has arrived, in a buffer that doubles as it grows) from its first chunk until its answer
 * is written or its connection closes, which also
 * covers the tensors decoded from it while they wait in a model's queue. A chunk that would take the total past
 * the budget is refused: its request is answered 429 (retry later) and its connection closed without reading the
 * rest, so an overload of large bodies sheds requests instead of filling the heap.
 *
 * <p>Why: the 12-03 12:57 standard run offered 91.7 req/s of 1.7 MB JSON bodies over 256 connections to a server
 * with a 384 MB heap (the derived default on one CPU) that answers 58-102 of them a second; the bodies arriving
 * at once outgrew the heap, and the server threw OutOfMemoryError on its event loop for two minutes and answered
 * nothing. The per-request limit (--max-body-bytes) cannot prevent that: it bounds one body, not how many arrive
 * together.
 *
 * <p>A request alone in the budget is always admitted, whatever its size, so a body up to --max-body-bytes is
 * never refused on an idle server however small the budget.
 */
public final class BodyMemory {
    /**
     * The budget's share of the JVM's maximum heap. A request's decoded tensors are at most as large as its body
     * (a third of it for JSON), so the bodies and tensors of admitted requests stay within two thirds of the heap.
     * A quarter refused 767 of the 600 KB JSON workload's requests at 64 connections (1.7 MB bodies: up to 109 MB
     * held, against a 96 MB budget on the 384 MB heap), which that heap had served without refusals.
     */
    static final double HEAP_SHARE = 1.0 / 3;

    private final long budget;
    private final boolean derived;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    /** @param budget the most body bytes held at once (a request alone may exceed it) */
    public BodyMemory(long budget) {
        this(budget, false);
    }

    private BodyMemory(long budget, boolean derived) {
        if (budget < 1) {
            throw new IllegalArgumentException("the body memory budget must be positive, was " + budget);
        }
        this.budget = budget;
        this.derived = derived;
    }

    /** A budget of a third of this JVM's maximum heap. */
    public static BodyMemory ofHeap() {
        return new BodyMemory(derivedBudget(), true);
    }

    /** Whether the budget is the derived one ({@link #ofHeap()}), not set by --max-body-memory. */
    public boolean derived() {
        return derived;
    }

    /** What the budget is when --max-body-memory is not set: a third of this JVM's maximum heap. */
    public static long derivedBudget() {
        return (long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE);
    }

    /** One line for the start-up log. */
    public String describe() {
        return "request bodies in memory: budget " + mebibytes(budget) + (derived
                ? " (derived: a third of the max heap; --max-body-memory overrides)"
                : " (set by --max-body-memory; derived " + mebibytes(derivedBudget()) + ")");
    }

    private static String mebibytes(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }

    public long budget() {
        return budget;
    }

    /** The bytes held now, by every request. */
    public long held() {
        return held.get();
    }

    /** How many requests were refused for the budget since the server started. */
    public long refusals() {
        return refused.get();
    }

    /** Shows the bytes held, the budget and the refusals in {@code registry} (/metrics). */
    public void bindTo(io.micrometer.core.instrument.MeterRegistry registry) {
        io.micrometer.core.instrument.Gauge.builder(MetricNames.REQUEST_BODY_HELD.meterName(), this, BodyMemory::held)
                .baseUnit("bytes").description("Bytes of request bodies held in memory now").register(registry);
        io.micrometer.core.instrument.Gauge.builder(MetricNames.REQUEST_BODY_BUDGET.meterName(), this,
                        BodyMemory::budget)
                .baseUnit("bytes").description("The most request body bytes held at once (--max-body-memory)")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(MetricNames.REQUEST_BODY_REFUSED.meterName(), this,
                        BodyMemory::refusals)
                .description("Requests (and gRPC stream messages) refused because the bodies held would have passed"
                        + " the budget")
                .register(registry);
    }

    /**
     * One request's share of the budget. Its chunks arrive on its event loop, but a compressed body inflates on
     * a worker thread while the loop may see the connection close: the lease's methods are synchronized
     * (uncontended, so about as cheap as plain field access).
     */
    public Lease lease() {
        return new Lease();
    }

    /**
     * What one request holds; {@link #close()} gives it back, once. A request that ends (answered, or its
     * connection closed) while work off its event loop still uses its body or tensors (a decode on a worker, the
     * model's queue) keeps its share until that work is {@link #done()}: {@link #use()} and {@link #ended()}.
     */
    public final class Lease implements AutoCloseable {
        private long mine;
        private boolean closed;
        private int uses;
        private boolean ended;

        private Lease() {
        }

        /**
         * Holds {@code bytes} more for this request, or refuses them (holding nothing more) when other requests
         * hold bytes and the total would pass the budget.
         */
        public synchronized boolean grow(long bytes) {
            if (closed) {
                return false;
            }
            if (bytes <= 0) {
                return true;
            }
            while (true) {
                long now = held.get();
                long next = now + bytes;
                if (now > mine && next > budget) {
                    refused.incrementAndGet();
                    return false;
                }
                if (held.compareAndSet(now, next)) {
                    mine += bytes;
                    return true;
                }
            }
        }

        /** The error a refused request is answered with. */
        public GantryException refused() {
            return new GantryException(ErrorCode.RESOURCE_EXHAUSTED, "request bodies in memory reached the "
                    + "server's budget of " + budget + " bytes (--max-body-memory); retry later");
        }

        /** The bytes this request holds. */
        public synchronized long held() {
            return mine;
        }

        /** Work off the request's event loop starts using the body (or what was decoded from it). */
        public synchronized void use() {
            uses++;
        }

        /** That work has finished; gives the share back if the request has ended. Nothing when nothing uses it. */
        public synchronized void done() {
            if (uses > 0 && --uses == 0 && ended) {
                close();
            }
        }

        /** The request ended: gives the share back now, or, while work uses the body, when it is done. */
        public synchronized void ended() {
            ended = true;
            if (uses == 0) {
                close();
            }
        }

        /** Whether the request has ended (its client will read no answer). */
        public synchronized boolean hasEnded() {
            return ended;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                held.addAndGet(-mine);
                mine = 0;
            }
        }
    }
}
