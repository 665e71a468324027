package dev.gantry.core.usage;

import dev.gantry.core.model.ModelId;
import dev.gantry.store.usage.UsageCounts;
import dev.gantry.store.usage.UsageGroup;
import dev.gantry.store.usage.UsageQuery;
import dev.gantry.store.usage.UsageRow;
import dev.gantry.store.usage.UsageStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The usage meter counts exactly, whatever the interleaving of records and flushes, and prices what it counts. */
class UsageMeterTest {
    /** A store that keeps what was added, and can be told to fail. */
    static final class RecordingStore implements UsageStore {
        final List<UsageRow> rows = new ArrayList<>();
        volatile boolean failing;

        @Override
        public synchronized void add(Collection<UsageRow> batch) {
            if (failing) {
                throw new IllegalStateException("disk full");
            }
            rows.addAll(batch);
        }

        @Override
        public List<UsageGroup> query(UsageQuery query) {
            return List.of();
        }

        @Override
        public synchronized Map<String, UsageCounts> totalsByKey(long fromMinute) {
            Map<String, UsageCounts> out = new HashMap<>();
            rows.stream().filter(r -> r.epochMinute() >= fromMinute)
                    .forEach(r -> out.merge(r.keyId(), r.counts(), UsageCounts::plus));
            return out;
        }

        synchronized UsageCounts total() {
            return rows.stream().map(UsageRow::counts).reduce(UsageCounts.ZERO, UsageCounts::plus);
        }
    }

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-10T12:00:00Z"), ZoneOffset.UTC);
    static final ModelId MODEL = new ModelId("m", 1);

    @Test
    void recordsRacingWithFlushes_areEachStoredExactlyOnce() throws Exception {
        RecordingStore store = new RecordingStore();
        UsageMeter meter = UsageMeter.create(store, Prices.NONE, Quotas.NONE, CLOCK, new SimpleMeterRegistry());
        int threads = 4;
        int perThread = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String key = "k" + (t % 2);
            writers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    meter.record(key, MODEL, 2, 10, 20, 3, 1000);
                }
            }));
        }
        Thread flusher = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                meter.flush();
            }
        });
        go.countDown();
        for (Thread w : writers) {
            w.join();
        }
        done.set(true);
        flusher.join();
        meter.close();

        long n = (long) threads * perThread;
        assertEquals(new UsageCounts(n, 2 * n, 10 * n, 20 * n, 3 * n, 1000 * n, 0), store.total());
    }

    @Test
    void aFailedStoreWrite_keepsTheRowsForTheNextFlush() {
        RecordingStore store = new RecordingStore();
        UsageMeter meter = UsageMeter.create(store, Prices.NONE, Quotas.NONE, CLOCK, new SimpleMeterRegistry());
        meter.record("k", MODEL, 1, 1, 1, 0, 0);
        store.failing = true;
        meter.flush();
        store.failing = false;
        meter.record("k", MODEL, 1, 1, 1, 0, 0);
        meter.flush();
        assertEquals(2, store.total().requests());
    }

    @Test
    void cost_isPricedPerThousandRequestsTokensAndPerComputeSecond() {
        RecordingStore store = new RecordingStore();
        Prices prices = new Prices(Map.of("m", new Price(2.0, 0.5, 10.0)), Price.FREE);
        UsageMeter meter = UsageMeter.create(store, prices, Quotas.NONE, CLOCK, new SimpleMeterRegistry());
        meter.record("k", MODEL, 1, 0, 0, 2000, 500_000_000L);
        meter.record("k", new ModelId("free", 1), 1, 0, 0, 2000, 500_000_000L);
        meter.close();
        assertEquals(2.0 / 1000 + 0.5 * 2 + 10.0 * 0.5, store.total().cost(), 1e-12);
    }

    @Test
    void costQuota_refusesOnceCompletedRequestsReachIt() {
        RecordingStore store = new RecordingStore();
        Prices prices = new Prices(Map.of(), new Price(1000.0, 0, 0));
        Quotas quotas = new Quotas(Map.of("k", new Quota(OptionalLong.empty(), OptionalLong.empty(),
                OptionalDouble.of(2.0), OptionalDouble.empty())), Quota.UNLIMITED);
        UsageMeter meter = UsageMeter.create(store, prices, quotas, CLOCK, new SimpleMeterRegistry());
        for (int i = 0; i < 2; i++) {
            assertEquals(Optional.empty(), meter.admit("k", "app"));
            meter.record("k", MODEL, 1, 0, 0, 0, 0);
        }
        Optional<QuotaExceeded> refused = meter.admit("k", "app");
        assertTrue(refused.isPresent());
        assertEquals("cost_per_day", refused.get().quota());
        assertEquals(Instant.parse("2026-03-11T00:00:00Z"), refused.get().resetAt());
    }

    @Test
    void releasedRequests_giveTheirQuotaBack() {
        Quotas quotas = new Quotas(Map.of(), new Quota(OptionalLong.of(1), OptionalLong.empty(),
                OptionalDouble.empty(), OptionalDouble.empty()));
        UsageMeter meter = UsageMeter.create(new RecordingStore(), Prices.NONE, quotas, CLOCK,
                new SimpleMeterRegistry());
        assertEquals(Optional.empty(), meter.admit("k", "app"));
        assertTrue(meter.admit("k", "app").isPresent(), "one request per day, and one is in flight");
        meter.release("k");
        assertEquals(Optional.empty(), meter.admit("k", "app"), "a failed request uses no quota");
    }
    @Test
    void recordsAcrossKeysAndVersions_areStoredPerKeyModelVersionAndMinute_withExactSums() {
        RecordingStore store = new RecordingStore();
        long[] millis = {Instant.parse("2026-03-10T12:00:10Z").toEpochMilli()};
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public long millis() {
                return millis[0];
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(millis[0]);
            }
        };
        Prices prices = new Prices(Map.of("m", new Price(1000.0, 0, 0)), Price.FREE);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        UsageMeter meter = UsageMeter.create(store, prices, Quotas.NONE, clock, registry);
        ModelId v2 = new ModelId("m", 2);
        for (int i = 0; i < 5; i++) {
            meter.record("a", MODEL, 2, 10, 100, 0, 1_000);
        }
        for (int i = 0; i < 3; i++) {
            meter.record("a", v2, 1, 20, 200, 0, 2_000);
        }
        meter.record("b", MODEL, 4, 30, 300, 0, 3_000);
        millis[0] += 60_000; // the next minute, not flushed in between
        meter.record("a", MODEL, 1, 1, 1, 0, 1);
        meter.flush();

        long minute = Instant.parse("2026-03-10T12:00:00Z").getEpochSecond() / 60;
        Map<String, UsageCounts> rows = new HashMap<>();
        for (UsageRow r : store.rows) {
            rows.merge(r.keyId() + "/" + r.model() + "/" + r.version() + "@" + (r.epochMinute() - minute), r.counts(),
                    UsageCounts::plus);
        }
        assertEquals(Map.of(
                "a/m/1@0", new UsageCounts(5, 10, 50, 500, 0, 5_000, 5.0),
                "a/m/2@0", new UsageCounts(3, 3, 60, 600, 0, 6_000, 3.0),
                "b/m/1@0", new UsageCounts(1, 4, 30, 300, 0, 3_000, 1.0),
                "a/m/1@1", new UsageCounts(1, 1, 1, 1, 0, 1, 1.0)), rows);
        assertEquals(4, store.rows.size(), "one row per key, version and minute");
        assertEquals(7.0, usage(registry, "usage.requests", 1));
        assertEquals(3.0, usage(registry, "usage.requests", 2));
        assertEquals(15.0, usage(registry, "usage.rows", 1));
        assertEquals(7.0, usage(registry, "usage.cost", 1));
    }

    @Test
    void prepare_createsTheVersionsMetersAndAccountsAtZero_andStoresNothingForThem() {
        RecordingStore store = new RecordingStore();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        UsageMeter meter = UsageMeter.create(store, Prices.NONE, Quotas.NONE, CLOCK, registry);
        ModelId v2 = new ModelId("m", 2);
        meter.record("a", MODEL, 1, 1, 1, 0, 0);

        meter.prepare(v2);
        meter.prepare(v2);
        meter.flush();

        assertEquals(0.0, usage(registry, "usage.requests", 2));
        assertEquals(List.of("a/1"), keysAndVersions(store),
                "a prepared version that served nothing stores no row");
        meter.record("a", v2, 3, 1, 1, 0, 0);
        meter.flush();
        assertEquals(1.0, usage(registry, "usage.requests", 2));
        assertEquals(List.of("a/1", "a/2"), keysAndVersions(store));
        assertEquals(3, store.rows.get(1).counts().rows());
    }

    /** The usage meter {@code name} of version {@code version} of model "m", as the registry reads it. */
    private static double usage(SimpleMeterRegistry registry, String name, long version) {
        return registry.get(name).tags("model", "m", "version", Long.toString(version)).functionCounter().count();
    }

    /** "key/version" of each stored row, in order. */
    private static List<String> keysAndVersions(RecordingStore store) {
        return store.rows.stream().map(r -> r.keyId() + "/" + r.version()).toList();
    }

    @Test
    void aKeysFirstRequest_opensItsAccountsForEveryPreparedVersion_andStoresOnlyWhatItUsed() {
        RecordingStore store = new RecordingStore();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ModelId v2 = new ModelId("m", 2);
        UsageMeter meter = UsageMeter.create(store, Prices.NONE, Quotas.NONE, CLOCK, registry);
        for (ModelId version : List.of(MODEL, v2)) {
            meter.prepare(version);
        }
        assertFalse(meter.hasAccount("a", MODEL), "no key has been seen yet");

        meter.record("a", MODEL, 1, 1, 1, 0, 0);

        assertTrue(meter.hasAccount("a", MODEL));
        assertTrue(meter.hasAccount("a", v2), "the key's account for the other version is ready before it is used");
        assertFalse(meter.hasAccount("b", v2));
        meter.flush();
        assertEquals(List.of("a/1"), keysAndVersions(store),
                "an account opened ahead stores no row");
        meter.record("a", v2, 2, 1, 1, 0, 0);
        meter.flush();
        assertEquals(List.of("a/1", "a/2"), keysAndVersions(store));
        assertEquals(1.0, usage(registry, "usage.requests", 2));
    }
}
