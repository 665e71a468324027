package dev.gantry.store.keys;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * API keys in the catalogue's database, so every server sharing it has one set of keys
 * ({@code JdbcApiKeyStore.of(catalog)}). A change and its audit entries commit in one transaction.
 */
public interface ApiKeyStore {

    /** Every key, revoked and expired ones included, in the order they were created; read now. */
    List<StoredKey> list();

    Optional<StoredKey> find(String id);

    /**
     * Runs {@code work} in one transaction, serialized with every other catalogue write of every server sharing
     * the database (so what {@link Changes#list()} returns cannot change under it); committed and durable when
     * this returns, rolled back when {@code work} throws (the exception propagates unchanged).
     *
     * @throws KeyConflictException when a key's name or id is already taken (the database's constraint)
     */
    <T> T change(Function<Changes, T> work);

    /** The writes of one transaction. */
    interface Changes {
        /** Every key as committed, in creation order. */
        List<StoredKey> list();

        /** Adds a key after the others. */
        void insert(StoredKey key);

        /** Replaces the key with the same id, keeping its place. */
        void update(StoredKey key);

        void remove(String id);

        /** Appends an audit entry to the catalogue's chain, committed with the keys. */
        void audit(String actor, String role, String action, String target, String before, String after);
    }

    /** A key's name or id already belongs to another key. */
    final class KeyConflictException extends RuntimeException {
        public KeyConflictException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
