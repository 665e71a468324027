package dev.gantry.store.catalog;

/**
 * A write of background work was refused because, inside its transaction, the database did not confirm that this
 * server still holds the {@link BackgroundLease}: nothing of the transaction was written (no change, no audit
 * entry), and the lease is taken as lost until its next check.
 */
public final class LeaseLostException extends RuntimeException {
    public LeaseLostException(String message) {
        super(message);
    }
}
