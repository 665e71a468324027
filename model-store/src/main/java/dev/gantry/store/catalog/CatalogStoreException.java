package dev.gantry.store.catalog;

/** The catalogue database could not be opened, read or written; the message says which and why. */
public final class CatalogStoreException extends RuntimeException {
    public CatalogStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public CatalogStoreException(String message) {
        super(message);
    }
}
