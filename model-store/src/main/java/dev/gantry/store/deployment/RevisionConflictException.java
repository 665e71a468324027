package dev.gantry.store.deployment;

/**
 * A deployment record was not saved because it does not extend what is stored: another writer (another server
 * sharing the database) saved a revision since the record was read. Nothing was written.
 */
public final class RevisionConflictException extends DeploymentStoreException {
    private final long storedRevision;

    public RevisionConflictException(String message, long storedRevision) {
        super(message);
        this.storedRevision = storedRevision;
    }

    /** The latest revision stored when the save was refused. */
    public long storedRevision() {
        return storedRevision;
    }
}
