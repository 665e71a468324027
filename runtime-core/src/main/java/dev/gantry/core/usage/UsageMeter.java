package dev.gantry.core.usage;

import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import dev.gantry.store.usage.UsageCounts;
import dev.gantry.store.usage.UsageGroup;
import dev.gantry.store.usage.UsageQuery;
import dev.gantry.store.usage.UsageRow;
import dev.gantry.store.usage.UsageStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts usage per key and model version exactly, in per-minute aggregates held in memory and flushed to a
 * {@link UsageStore}; prices it; and enforces quotas. Metrics carry model and version only, never the key.
 *
 * <p>A caller (the OIP handler, the embeddings handler) calls {@link #admit} before running a request, then
 * {@link #record} when it succeeded or {@link #release} when it failed.
 */
public final class UsageMeter implements AutoCloseable {
    /*
     * Hot path. Each (key, model version) has an Account, found with two map reads and no key object built: it
     * holds the version's price, resolved once, and the counts of the current minute as plain
     * fields under the account's own lock. A request adds to those fields; nothing is allocated per request.
     *
     * Exactness. An account's counts move to the pending map (ConcurrentHashMap.merge, atomic per bucket) when
     * its minute changes and when a flush drains it, both under the account's lock, so a record lands either in
     * what was moved or in what stays for the next move. A flush first drains every account, then removes
     * pending buckets one by one (remove is atomic too): a bucket merged while it runs is taken by the next
     * flush. Nothing is counted twice or lost; a failed store write puts its rows back.
     */
    private static final Logger log = LoggerFactory.getLogger(UsageMeter.class);

    private record Bucket(long epochMinute, String keyId, String model, long version) {
    }

    /*
     * A version's usage meters are function counters over its accounts' running totals: a request adds to its
     * account's fields under the account's lock and increments no meter (the seven counter increments it made
     * were 1.3% of the event loop under MLP load). A scrape sums the version's accounts, each read under its lock.
     */
    private static final class Meters {
        /* Every key's account of this version; an account is added once, when it is created, never removed. */
        final List<Account> accounts = new java.util.concurrent.CopyOnWriteArrayList<>();

        double sum(java.util.function.ToDoubleFunction<Account> total) {
            double sum = 0;
            for (Account a : accounts) {
                sum += a.read(total);
            }
            return sum;
        }
    }

    private final UsageStore store;
    private final Prices prices;
    private final Clock clock;
    private final MeterRegistry registry;
    private final QuotaLedger ledger;
    private final Map<Bucket, UsageCounts> pending = new ConcurrentHashMap<>();
    private final Map<ModelId, Meters> meters = new ConcurrentHashMap<>();
    /* keyId -> model version -> account; two levels, so a lookup builds no composite key. */
    private final Map<String, Map<ModelId, Account>> accounts = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private final Object flushLock = new Object();

    private UsageMeter(UsageStore store, Prices prices, Quotas quotas, Clock clock, MeterRegistry registry) {
        this.store = store;
        this.prices = prices;
        this.clock = clock;
        this.registry = registry;
        if (quotas.isEmpty()) {
            this.ledger = null;
        } else {
            LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
            long dayStart = today.atStartOfDay(ZoneOffset.UTC).toEpochSecond() / 60;
            long monthStart = today.withDayOfMonth(1).atStartOfDay(ZoneOffset.UTC).toEpochSecond() / 60;
            this.ledger = new QuotaLedger(quotas, clock, store.totalsByKey(monthStart), store.totalsByKey(dayStart));
        }
    }

    /**
     * A meter over {@code store}. With quotas, reads the current month's usage per key from the store (blocking),
     * so quotas carry over restarts.
     */
    public static UsageMeter create(UsageStore store, Prices prices, Quotas quotas, Clock clock,
                                    MeterRegistry registry) {
        return new UsageMeter(store, prices, quotas, clock, registry);
    }

    /**
     * Counts one request against {@code keyId}'s quota before it runs; empty when it may run, else the quota
     * that refuses it (the refusal is counted in {@code quota.refusals}). Cheap: no I/O.
     */
    public Optional<QuotaExceeded> admit(String keyId, String keyName) {
        if (ledger == null) {
            return Optional.empty();
        }
        Optional<QuotaExceeded> refused = ledger.admit(keyId, keyName);
        refused.ifPresent(r -> refusals.computeIfAbsent(r.quota(), q -> Counter
                .builder(MetricNames.QUOTA_REFUSALS.meterName())
                .description("Requests refused because their key was over a quota").tag("quota", q)
                .register(registry)).increment());
        return refused;
    }

    /** Whether {@link #admit} can refuse anything (there are quotas); without quotas it admits all, holds nothing. */
    public boolean enforcesQuotas() {
        return ledger != null;
    }

    /** The admitted request failed: it uses no quota. */
    public void release(String keyId) {
        if (ledger != null) {
            ledger.release(keyId);
        }
    }

    /**
     * Records one completed request of {@code keyId} on {@code model}: its rows, body bytes in and out, tokens
     * (0 for tensor models; text endpoints pass the tokens they fed the model) and its share of compute time.
     */
    public void record(String keyId, ModelId model, long rows, long bytesIn, long bytesOut, long tokens,
                       long computeNanos) {
        Account a = account(keyId, model);
        double cost = a.price.cost(1, tokens, computeNanos);
        long minute = Math.floorDiv(clock.millis(), 60_000L);
        a.add(minute, rows, bytesIn, bytesOut, tokens, computeNanos, cost);
        if (ledger != null) {
            ledger.spent(keyId, cost);
        }
    }

    /**
     * Creates {@code model}'s meters, and its account for every key this meter has seen, before the version takes
     * requests, so that {@link #record} does not create them on the request path; see
     * {@link dev.gantry.core.lifecycle.ModelLifecycle#onReady}. Counts nothing; idempotent.
     */
    public void prepare(ModelId model) {
        meters.computeIfAbsent(model, this::meters);
        for (String keyId : accounts.keySet()) {
            account(keyId, model);
        }
    }

    private Account account(String keyId, ModelId model) {
        Map<ModelId, Account> ofKey = accounts.get(keyId);
        if (ofKey == null) {
            ofKey = newKey(keyId);
        }
        Account a = ofKey.get(model);
        if (a == null) {
            a = ofKey.computeIfAbsent(model, id -> newAccount(keyId, id));
        }
        return a;
    }

    /**
     * A key's first request: its accounts for every prepared version, not only the one it asked for. Without
     * that, the first request the key sent to another version (a traffic split starting) took the path that
     * creates an account, which the JIT had compiled as a trap while one version took all traffic: the
     * request path was deoptimized and recompiled on a busy core in the middle of a rollout. Meters are never
     * removed, so this is what {@link #prepare} would have made had the key been seen before the versions.
     * Racing with {@link #prepare}: each writes its own map before reading the other's, so at least one of
     * them sees the other's entry.
     */
    private Map<ModelId, Account> newKey(String keyId) {
        Map<ModelId, Account> ofKey = accounts.computeIfAbsent(keyId, k -> new ConcurrentHashMap<>());
        for (ModelId id : meters.keySet()) {
            ofKey.computeIfAbsent(id, m -> newAccount(keyId, m));
        }
        return ofKey;
    }

    /** Called once per (key, version): by the accounts map's computeIfAbsent. */
    private Account newAccount(String keyId, ModelId id) {
        Meters m = meters.computeIfAbsent(id, this::meters);
        Account a = new Account(keyId, id, prices.of(id.name()), Math.floorDiv(clock.millis(), 60_000L));
        m.accounts.add(a);
        return a;
    }

    /** Whether {@code keyId} has an account for {@code model}; for tests. */
    boolean hasAccount(String keyId, ModelId model) {
        Map<ModelId, Account> ofKey = accounts.get(keyId);
        return ofKey != null && ofKey.containsKey(model);
    }

    /** One key's usage of one model version: its meters and price, and the counts not yet moved to pending. */
    private final class Account {
        final String keyId;
        final ModelId model;
        final Price price;
        /* Guarded by this: the counts of `minute` not yet in pending. */
        long minute;
        long requests;
        long rows;
        long bytesIn;
        long bytesOut;
        long tokens;
        long computeNanos;
        double cost;
        /* Guarded by this: everything recorded since the server started, for the meters. */
        long allRequests;
        long allRows;
        long allBytesIn;
        long allBytesOut;
        long allTokens;
        long allComputeNanos;
        double allCost;

        /**
         * @param minute the current minute: an account made ahead of its first request starts there, so that
         *               request does not take the minute-change path (a JIT trap, see {@link #newKey})
         */
        Account(String keyId, ModelId model, Price price, long minute) {
            this.keyId = keyId;
            this.model = model;
            this.price = price;
            this.minute = minute;
        }

        synchronized void add(long minute, long rows, long bytesIn, long bytesOut, long tokens, long computeNanos,
                              double cost) {
            if (minute != this.minute) {
                moveToPending();
                this.minute = minute;
            }
            requests++;
            this.rows += rows;
            this.bytesIn += bytesIn;
            this.bytesOut += bytesOut;
            this.tokens += tokens;
            this.computeNanos += computeNanos;
            this.cost += cost;
            allRequests++;
            allRows += rows;
            allBytesIn += bytesIn;
            allBytesOut += bytesOut;
            allTokens += tokens;
            allComputeNanos += computeNanos;
            allCost += cost;
        }

        synchronized double read(java.util.function.ToDoubleFunction<Account> total) {
            return total.applyAsDouble(this);
        }

        /** Moves the counts held here to the pending map; the caller holds this account's lock. */
        void moveToPending() {
            if (requests == 0) {
                return;
            }
            pending.merge(new Bucket(minute, keyId, model.name(), model.version()),
                    new UsageCounts(requests, rows, bytesIn, bytesOut, tokens, computeNanos, cost),
                    UsageCounts::plus);
            requests = 0;
            rows = 0;
            bytesIn = 0;
            bytesOut = 0;
            tokens = 0;
            computeNanos = 0;
            cost = 0;
        }

        synchronized void drain() {
            moveToPending();
        }
    }

    private Meters meters(ModelId id) {
        Meters m = new Meters();
        Tags tags = Tags.of("model", id.name(), "version", Long.toString(id.version()));
        register(m, MetricNames.USAGE_REQUESTS, tags, "Requests counted as usage", a -> a.allRequests);
        register(m, MetricNames.USAGE_ROWS, tags, "Batch rows counted as usage", a -> a.allRows);
        String bytes = "Request and response body bytes counted as usage";
        register(m, MetricNames.USAGE_BYTES, tags.and("direction", "in"), bytes, a -> a.allBytesIn);
        register(m, MetricNames.USAGE_BYTES, tags.and("direction", "out"), bytes, a -> a.allBytesOut);
        register(m, MetricNames.USAGE_TOKENS, tags, "Tokens of text models counted as usage", a -> a.allTokens);
        register(m, MetricNames.USAGE_COMPUTE, tags, "Seconds of model compute counted as usage",
                a -> a.allComputeNanos / 1e9);
        register(m, MetricNames.USAGE_COST, tags, "Cost of usage from the configured prices", a -> a.allCost);
        return m;
    }

    private void register(Meters m, MetricNames name, Tags tags, String description,
                          java.util.function.ToDoubleFunction<Account> total) {
        // The registry holds its object weakly: m lives as long as this meter, in the meters map.
        FunctionCounter.builder(name.meterName(), m, x -> x.sum(total)).tags(tags).description(description)
                .register(registry);
    }

    /** Writes every pending aggregate to the store (blocking). On a store failure the rows stay pending. */
    public void flush() {
        synchronized (flushLock) {
            for (Map<ModelId, Account> ofKey : accounts.values()) {
                for (Account a : ofKey.values()) {
                    a.drain();
                }
            }
            List<UsageRow> rows = new ArrayList<>();
            for (Bucket b : List.copyOf(pending.keySet())) {
                UsageCounts c = pending.remove(b);
                if (c != null) {
                    rows.add(new UsageRow(b.epochMinute(), b.keyId(), b.model(), b.version(), c));
                }
            }
            try {
                store.add(rows);
            } catch (RuntimeException e) {
                for (UsageRow r : rows) {
                    pending.merge(new Bucket(r.epochMinute(), r.keyId(), r.model(), r.version()), r.counts(),
                            UsageCounts::plus);
                }
                log.warn("writing {} usage aggregates failed; they are kept and retried: {}", rows.size(),
                        e.toString());
            }
        }
    }

    /** Flushes, then answers {@code query} from the store (blocking). */
    public List<UsageGroup> query(UsageQuery query) {
        flush();
        return store.query(query);
    }

    /** Flushes what is pending. */
    @Override
    public void close() {
        flush();
    }
}
