package dev.gantry.store.catalog;

/**
 * Which server of those sharing a catalogue runs the background work (sunset retirement, rollout analysis): at
 * most one holds the lease at a time, and when the holder dies another takes it at its next {@link #check()}.
 *
 * <p>On PostgreSQL the lease is a session-level advisory lock held on a connection of its own: the database
 * releases it when that connection ends, which a killed process's does at once (the socket closes). On H2 (one
 * process) it is always held.
 */
public interface BackgroundLease extends AutoCloseable {

    /**
     * The lease over {@code catalog}'s database, not yet tried.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    static BackgroundLease over(CatalogStore catalog) {
        if (!(catalog instanceof JdbcCatalogStore jdbc)) {
            throw new IllegalArgumentException("catalog must be one of CatalogStore's own stores (h2, inMemory, "
                    + "postgres), was " + catalog.getClass().getName());
        }
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
        public void close() {
        }
    }
}
