package dev.gantry.core.routing;

import dev.gantry.core.governance.Actors;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.governance.Governance;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;

import static dev.gantry.core.routing.ServingFixture.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DeploymentManager with a governance traffic gate: policies and rollbacks only route what may take traffic. */
class GatedDeploymentManagerTest {
    private static final String DIGEST = "sha256:" + "a".repeat(64);
    private static final ModelCard CARD = ModelCard.fromJson("{\"owner\":\"t\",\"description\":\"d\","
            + "\"intended_use\":\"u\",\"risk_tier\":\"low\"}");

    @TempDir
    Path dir;

    /** The fixture's repository and lifecycle, with a manager gated by a fresh governance. */
    private static final class Gated implements AutoCloseable {
        final ServingFixture f;
        final CatalogStore catalog;
        final Governance gov;
        final DeploymentManager deployments;

        Gated(Path dir, long... versions) {
            f = new ServingFixture(dir, 1, versions);
            catalog = CatalogStore.inMemory(f.clock);
            gov = Governance.create(catalog, CardPolicy.defaults(), f.clock);
            deployments = DeploymentManager.create(f.repository, dev.gantry.store.catalog.DeploymentArchive.in(catalog),
                    new DeploymentSettings(1, 100), f.clock, f.registry, gov.trafficGate(),
                    new dev.gantry.core.audit.AuditTrail(catalog));
        }

        Gated start() {
            f.repository.loadAll().join();
            deployments.restore().join();
            return this;
        }

        void validated(long v) {
            gov.register(MODEL, v, DIGEST, 1, Actors.as("uploader", "deploy"));
            gov.validationStarted(MODEL, v, Actors.as("system", "system"));
            gov.validationSucceeded(MODEL, v, Actors.as("system", "system"));
        }

        void approved(long v) {
            validated(v);
            gov.patchCard(MODEL, v, CARD, Actors.as("uploader", "deploy"));
            gov.requestApproval(MODEL, v, Actors.as("requester", "deploy"), "");
            gov.approve(MODEL, v, Actors.as("approver", "approve"), "");
        }

        @Override
        public void close() {
            f.close();
            catalog.close();
        }
    }

    @Test
    void firstPolicy_goesToTheHighestReadyVersionThatMayTakePrimaryTraffic() {
        try (Gated g = new Gated(dir, 1, 2)) {
            g.gov.registerExisting(MODEL, 1, DIGEST, 1);
            g.validated(2);
            g.start();
            g.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            assertEquals(TrafficPolicy.single(1), g.deployments.snapshot(MODEL).orElseThrow().policy());
        }
    }

    @Test
    void applyPolicy_givingAValidatedVersionPrimaryWeight_isRefused_asShadowItIsApplied() {
        try (Gated g = new Gated(dir, 1, 2)) {
            g.gov.registerExisting(MODEL, 1, DIGEST, 1);
            g.validated(2);
            g.start();
            g.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            g.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();

            GantryException e = assertThrows(GantryException.class, () -> g.deployments.applyPolicy(MODEL,
                    new TrafficPolicy(List.of(new Route(1, 90), new Route(2, 10)), List.of()), OptionalLong.empty(),
                    Actors.as("alice", "deploy"), "canary"));
            assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().startsWith("version 2 of model 'm' is VALIDATED"), e.getMessage());
            assertEquals(1, g.deployments.snapshot(MODEL).orElseThrow().revision());

            g.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(1, 100)),
                    List.of(new ShadowRoute(2, 10))), OptionalLong.empty(), Actors.as("alice", "deploy"), "shadow");
            assertEquals(2, g.deployments.snapshot(MODEL).orElseThrow().revision());
        }
    }

    @Test
    void rollback_toARevisionRoutingASuspendedVersion_isRefused() {
        try (Gated g = new Gated(dir, 1, 2)) {
            g.gov.registerExisting(MODEL, 1, DIGEST, 1);
            g.approved(2);
            g.start();
            g.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            g.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            g.deployments.applyPolicy(MODEL, TrafficPolicy.single(1), OptionalLong.empty(), Actors.as("alice", "deploy"), "v1");
            g.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("alice", "deploy"), "v2");
            g.gov.suspend(MODEL, 1, Actors.as("oncall", "deploy"), "bad answers");

            CompletionException e = assertThrows(CompletionException.class, () -> g.deployments.rollback(MODEL,
                    OptionalLong.empty(), Actors.as("bob", "deploy")).join());
            GantryException cause = assertInstanceOf(GantryException.class, e.getCause());
            assertEquals("version 1 of model 'm' is SUSPENDED and takes no traffic until an admin resumes it "
                    + "(weight 100)", cause.getMessage());
            assertEquals(TrafficPolicy.single(2), g.deployments.snapshot(MODEL).orElseThrow().policy());

            g.gov.resume(MODEL, 1, Actors.as("root", "admin"), "");
            assertEquals(TrafficPolicy.single(1), g.deployments.rollback(MODEL, OptionalLong.empty(), Actors.as("bob", "deploy")).join()
                    .policy());
        }
    }
}
