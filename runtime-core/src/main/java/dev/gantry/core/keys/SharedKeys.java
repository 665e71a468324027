package dev.gantry.core.keys;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.catalog.CatalogLocation;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.JdbcApiKeyStore;
import dev.gantry.store.keys.ApiKeyStore;
import dev.gantry.store.keys.StoredKey;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The API keys of a shared catalogue (PostgreSQL): one set for every server using it. Each change is made with
 * its audit entries in one transaction, after every other server's change to the keys has committed.
 */
public final class SharedKeys implements AutoCloseable {
    /*
     * A change is a function from the keys as committed (read inside the transaction, under the catalogue's write
     * lock) to the keys it wants and the entries to audit; the difference is written row by row. So a check such
     * as "this name is free" is made against what every server has committed, and two servers creating the same
     * name end with one key: the second sees the first's and refuses. The table's UNIQUE (name) backs that up.
     */
    private final ApiKeyStore store;
    private final Optional<CatalogStore> owned;

    private SharedKeys(ApiKeyStore store, Optional<CatalogStore> owned) {
        this.store = store;
        this.owned = owned;
    }

    /** The keys of {@code catalog}'s database; closing this leaves the catalogue open. */
    public static SharedKeys over(CatalogStore catalog) {
        return new SharedKeys(JdbcApiKeyStore.of(catalog), Optional.empty());
    }

    /**
     * Opens the PostgreSQL catalogue at {@code location} for its keys alone ({@code gantry keys}): migrated like a
     * server's, its audit chain keyed by {@code auditKeyFile} (default {@code <dataDir>/audit.key}), which must be
     * the servers' key. Closing this closes the catalogue.
     *
     * @throws IllegalArgumentException when {@code location} is the embedded catalogue (its keys are a file)
     * @throws GantryException (UNAVAILABLE) naming why the database cannot be used
     */
    public static SharedKeys open(CatalogLocation location, Path dataDir, Optional<Path> auditKeyFile) {
        if (location.isEmbedded()) {
            throw new IllegalArgumentException("the embedded catalogue keeps its keys in <data>/keys.json");
        }
        CatalogStore catalog;
        try {
            catalog = CatalogStore.open(location, dataDir, Clock.systemUTC(), auditKeyFile);
        } catch (RuntimeException e) {
            throw GantryException.unavailable("cannot open the catalogue " + location + ": " + e.getMessage());
        }
        return new SharedKeys(JdbcApiKeyStore.of(catalog), Optional.of(catalog));
    }

    /** What a change wants: the keys after it, and what the audit trail records of it. */
    public record Update(Map<String, StoredKey> keys, List<AuditTrail.Entry> entries) {
        public Update {
            Objects.requireNonNull(keys, "keys");
            entries = List.copyOf(entries);
        }
    }

    /** Every key, in creation order, by id; read from the database now. */
    public Map<String, StoredKey> list() {
        return byId(store.list());
    }

    /**
     * Applies {@code change} to the keys as committed and writes the result with its audit entries (by
     * {@code actor}) in one transaction; returns the keys after it.
     *
     * @throws RuntimeException what {@code change} threw (nothing written)
     * @throws GantryException ALREADY_EXISTS when the database refuses a name or id another key has
     */
    public Map<String, StoredKey> change(Actor actor, Function<Map<String, StoredKey>, Update> change) {
        try {
            return store.change(tx -> {
                Map<String, StoredKey> before = byId(tx.list());
                Update update = change.apply(new LinkedHashMap<>(before));
                for (StoredKey k : update.keys().values()) {
                    StoredKey old = before.get(k.id());
                    if (old == null) {
                        tx.insert(k);
                    } else if (!old.equals(k)) {
                        tx.update(k);
                    }
                }
                for (String id : before.keySet()) {
                    if (!update.keys().containsKey(id)) {
                        tx.remove(id);
                    }
                }
                for (AuditTrail.Entry e : update.entries()) {
                    tx.audit(actor.name(), actor.auditRole(), e.action(), e.target(), e.before(), e.after());
                }
                return Collections.unmodifiableMap(new LinkedHashMap<>(update.keys()));
            });
        } catch (ApiKeyStore.KeyConflictException e) {
            throw new GantryException(ErrorCode.ALREADY_EXISTS, "an API key with this name exists already (made "
                    + "through another server at the same moment); choose another name");
        }
    }

    private static Map<String, StoredKey> byId(List<StoredKey> keys) {
        Map<String, StoredKey> out = new LinkedHashMap<>();
        keys.forEach(k -> out.put(k.id(), k));
        return out;
    }

    @Override
    public void close() {
        owned.ifPresent(CatalogStore::close);
    }
}
