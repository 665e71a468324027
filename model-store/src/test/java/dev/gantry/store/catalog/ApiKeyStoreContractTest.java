package dev.gantry.store.catalog;

import dev.gantry.store.keys.ApiKeyStore;
import dev.gantry.store.keys.StoredKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API key store's contract, on every catalogue database. */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class ApiKeyStoreContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dataDir;

    CatalogBackend.Database db;
    private final CatalogFixtures.MutableClock clock = new CatalogFixtures.MutableClock(T0);

    @BeforeEach
    void freshDatabase() {
        db = backend.fresh(dataDir);
    }

    private static StoredKey key(String id, String name) {
        return new StoredKey(id, name, Set.of("invoke", "deploy"), Set.of("mlp", "text-embedding"),
                Instant.parse("2025-06-01T12:00:00.123456Z"), Optional.of(Instant.parse("2025-09-01T00:00:00Z")),
                Optional.empty(), "ab".repeat(32), Optional.of(2.5), Optional.of("000000000001"));
    }

    /** Creates {@code k} unless its name is taken, as the key stores above this one do; true when created. */
    private static boolean createIfNameFree(ApiKeyStore store, StoredKey k) {
        return store.change(tx -> {
            if (tx.list().stream().anyMatch(x -> x.name().equals(k.name()))) {
                return false;
            }
            tx.insert(k);
            return true;
        });
    }

    @Test
    void create_thenFindById_returnsEqualKey_acrossReopen() {
        StoredKey k = key("0123456789ab", "ci-bot");
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            assertTrue(createIfNameFree(store, k));
            assertEquals(Optional.of(k), store.find(k.id()));
        }
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            assertEquals(Optional.of(k), store.find(k.id()));
            assertEquals(Optional.empty(), store.find("ffffffffffff"));
        }
    }

    @Test
    void keyWithoutExpiryRateOrCreator_roundTrips() {
        StoredKey k = new StoredKey("0123456789ab", "root", Set.of("admin"), Set.of(), T0, Optional.empty(),
                Optional.empty(), "cd".repeat(32), Optional.empty(), Optional.empty());
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            createIfNameFree(store, k);
            assertEquals(List.of(k), store.list());
        }
    }

    @Test
    void list_isInCreationOrder_andARotationKeepsItsPlace() {
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            StoredKey a = key("00000000000a", "a");
            StoredKey b = key("00000000000b", "b");
            createIfNameFree(store, b);
            createIfNameFree(store, a);
            StoredKey rotated = new StoredKey(b.id(), b.name(), b.roles(), b.models(), T0.plusSeconds(60),
                    b.expires(), b.revoked(), "ef".repeat(32), b.ratePerSecond(), b.createdBy());
            store.change(tx -> {
                tx.update(rotated);
                return null;
            });
            assertEquals(List.of(rotated, a), store.list());
            assertEquals("ef".repeat(32), store.find(b.id()).orElseThrow().secretSha256());
        }
    }

    @Test
    void revokeAndExpiry_areStored() {
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            StoredKey k = key("0123456789ab", "ci-bot");
            createIfNameFree(store, k);
            StoredKey revoked = new StoredKey(k.id(), k.name(), k.roles(), k.models(), k.created(),
                    Optional.of(T0.plus(Duration.ofDays(1))), Optional.of(T0.plusSeconds(5)), k.secretSha256(),
                    k.ratePerSecond(), k.createdBy());
            store.change(tx -> {
                tx.update(revoked);
                return null;
            });
            StoredKey read = store.find(k.id()).orElseThrow();
            assertEquals(Optional.of(T0.plusSeconds(5)), read.revoked());
            assertEquals(Optional.of(T0.plus(Duration.ofDays(1))), read.expires());
        }
    }

    @Test
    void aChangeAndItsAuditEntry_commitTogether_orNeither() {
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            store.change(tx -> {
                tx.insert(key("0123456789ab", "ci-bot"));
                tx.audit("root", "admin", "key.create", "key:0123456789ab", "", "ci-bot [invoke]");
                return null;
            });
            assertThrows(IllegalStateException.class, () -> store.change(tx -> {
                tx.insert(key("0123456789ac", "other"));
                tx.audit("root", "admin", "key.create", "key:0123456789ac", "", "other");
                throw new IllegalStateException("the change fails after its entry");
            }));
            assertEquals(1, store.list().size());
            List<AuditEntry> entries = catalog.audit(AuditQuery.all());
            assertEquals(1, entries.size());
            assertEquals("key:0123456789ab", entries.get(0).target());
            assertTrue(catalog.verifyAudit().ok());
        }
    }

    @Test
    void aNameTakenByAnotherKey_revokedOrNot_isRefusedByTheDatabase() {
        try (CatalogStore catalog = db.open(clock)) {
            ApiKeyStore store = JdbcApiKeyStore.of(catalog);
            StoredKey first = key("0123456789ab", "ci-bot");
            createIfNameFree(store, first);
            store.change(tx -> {
                tx.update(new StoredKey(first.id(), first.name(), first.roles(), first.models(), first.created(),
                        first.expires(), Optional.of(T0), first.secretSha256(), first.ratePerSecond(),
                        first.createdBy()));
                return null;
            });
            assertThrows(ApiKeyStore.KeyConflictException.class, () -> store.change(tx -> {
                tx.insert(key("0123456789ac", "ci-bot"));
                return null;
            }));
            assertEquals(1, store.list().size());
        }
    }

    @Test
    void concurrentCreatesOfOneName_throughTwoStores_leaveExactlyOneKey() throws Exception {
        CatalogStore[] two = db.openTwo(clock);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            ApiKeyStore[] stores = {JdbcApiKeyStore.of(two[0]), JdbcApiKeyStore.of(two[1])};
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ApiKeyStore store = stores[i % 2];
                StoredKey k = key(String.format("%012x", i + 1), "same-name");
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        return createIfNameFree(store, k);
                    } catch (ApiKeyStore.KeyConflictException e) {
                        return false;
                    }
                }));
            }
            go.countDown();
            int won = 0;
            for (Future<Boolean> f : results) {
                won += f.get() ? 1 : 0;
            }
            assertEquals(1, won);
            assertEquals(1, stores[0].list().size());
            assertEquals(stores[0].list(), stores[1].list());
        } finally {
            pool.shutdownNow();
            two[0].close();
            two[1].close();
        }
    }
}
