package dev.gantry.store.catalog;

/**
 * Which server of those sharing a catalogue runs the background work (sunset retirement, rollout analysis): at
 * most one holds the lease at a time, and when the holder dies another takes it at its next {@link #check()}.
 *
 * <p>On PostgreSQL the lease is a session-level advisory lock held on a connection of its own: the database
 * releases it when that connection ends, which a killed process's does at once (the socket closes). On H2 (one
 * process) it is always held.
 *
 * <p>Background work runs {@link #fenced fenced}: a database may end the holder's lease session while the
 * holder lives (a network partition, an idle-session timeout, {@code pg_terminate_backend}), and another server
 * can take the lease before the holder's next check notices. Each catalogue write of fenced work therefore
 * commits only if the database confirms, inside that write's transaction, that this lease's session still
 * holds the lock; so two servers never both commit background decisions.
 */
public interface BackgroundLease extends AutoCloseable {

    /**
     * The lease over {@code catalog}'s database, not yet tried.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    static BackgroundLease over(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return jdbc.dialect().shared() ? new AdvisoryLease(jdbc) : AlwaysHeld.INSTANCE;
    }

    /**
     * Takes the lease if nobody holds it, or checks that this server still does (its connection is alive);
     * blocks for one round trip to the database. Never throws: a database it cannot reach means not held.
     *
     * @return whether this server holds the lease now
     */
    boolean check();

    /** What the last {@link #check()} found, without asking the database. */
    boolean held();

    /**
     * Runs {@code work} as this lease's background work: each catalogue write transaction that {@code work} makes
     * on the calling thread (through the store this lease is over) commits only if, inside it and after it holds
     * the catalogue's write lock, the database confirms that this lease's session still holds the lease.
     * Otherwise that transaction rolls back, the lease is taken as lost until the next {@link #check()}, and
     * {@link LeaseLostException} is thrown out of the write (and, unless {@code work} catches it, out of this
     * call). Writes on other threads, and reads, are not affected. On the embedded database the check always
     * passes (one process).
     */
    void fenced(Runnable work);

    /** Releases the lease (if held) and its connection. */
    @Override
    void close();

    /** The embedded database's lease: one process, always the holder. */
    enum AlwaysHeld implements BackgroundLease {
        INSTANCE;

        @Override
        public boolean check() {
            return true;
        }

        @Override
        public boolean held() {
            return true;
        }

        @Override
        public void fenced(Runnable work) {
            work.run();
        }

        @Override
        public void close() {
        }
    }
}
