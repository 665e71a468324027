package dev.gantry.store.catalog;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The background lease of servers sharing a catalogue: one holder at a time on PostgreSQL, handed over when
 * the holder lets go; always held on the embedded database (one process).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class BackgroundLeaseContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    private CatalogStore one;
    private CatalogStore two;
    private BackgroundLease first;
    private BackgroundLease second;

    @BeforeEach
    void twoStores() {
        CatalogStore[] stores = backend.fresh(dir).openTwo(new CatalogFixtures.MutableClock(T0));
        one = stores[0];
        two = stores[1];
        first = BackgroundLease.over(one);
        second = BackgroundLease.over(two);
    }

    @AfterEach
    void close() {
        first.close();
        second.close();
        one.close();
        two.close();
    }

    @Test
    void firstToCheck_holdsTheLease_andKeepsItOnEveryCheck() {
        assertTrue(first.check());
        assertTrue(first.check());
        assertTrue(first.held());
    }

    @Test
    void secondServer_holdsItOnlyOnAnEmbeddedDatabase() {
        first.check();
        boolean alsoHeld = second.check();
        assertTrue(backend == CatalogBackend.H2 ? alsoHeld : !alsoHeld);
        assertTrue(backend == CatalogBackend.H2 ? second.held() : !second.held());
    }

    @Test
    void holderLettingGo_handsTheLeaseToTheNextCheck() {
        first.check();
        second.check();
        first.close();
        assertTrue(second.check());
        if (backend == CatalogBackend.POSTGRESQL) {
            assertFalse(first.held());
        }
    }
}
