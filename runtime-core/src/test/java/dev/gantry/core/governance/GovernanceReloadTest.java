package dev.gantry.core.governance;

import dev.gantry.store.catalog.ReleaseStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.gantry.core.governance.GovernanceFixture.M;
import static dev.gantry.core.governance.GovernanceFixture.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A second server's governance over the same catalogue (as replicas sharing PostgreSQL have): what the first
 * one changes reaches the second's traffic gate when it reloads the version or the model, and not before.
 */
class GovernanceReloadTest {
    private final GovernanceFixture f = new GovernanceFixture();
    private final Governance other = Governance.create(f.store, CardPolicy.defaults(), f.clock);

    @AfterEach
    void close() {
        f.close();
    }

    private ReleaseStage stageOnOther(long version) {
        return other.trafficGate().status(M, version).orElseThrow().stage();
    }

    @Test
    void reloadOfTheVersion_publishesAnApprovalMadeThroughAnotherServer() {
        f.validated(1);
        other.reload(M, 1);
        f.gov.patchCard(M, 1, GovernanceFixture.LOW_CARD, Actors.as("uploader", "deploy"));
        f.gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "ready");
        f.gov.approve(M, 1, Actors.as("approver", "approve"), "ok");
        assertEquals(ReleaseStage.VALIDATED, stageOnOther(1));

        other.reload(M, 1);

        assertEquals(ReleaseStage.APPROVED, stageOnOther(1));
    }

    @Test
    void reloadOfTheModel_publishesEveryVersionsStage_includingOnesItHadNeverSeen() {
        f.approved(1);
        f.approved(2);
        f.gov.suspend(M, 2, Actors.as("oncall", "deploy"), "bad answers");

        other.reload(M);

        assertEquals(ReleaseStage.APPROVED, stageOnOther(1));
        assertEquals(ReleaseStage.SUSPENDED, stageOnOther(2));
    }

    @Test
    void policyCheck_beforeTheReload_judgesByTheCatalogue_soAnApprovalJustCommittedElsewhereIsRoutable() {
        f.validated(1);
        other.reload(M, 1);
        f.gov.patchCard(M, 1, GovernanceFixture.LOW_CARD, Actors.as("uploader", "deploy"));
        f.gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "ready");
        f.gov.approve(M, 1, Actors.as("approver", "approve"), "ok");
        assertEquals(ReleaseStage.VALIDATED, stageOnOther(1)); // not yet published on the other server

        other.trafficGate().check(M, dev.gantry.store.deployment.TrafficPolicy.single(1), T0);
    }

    @Test
    void policyCheck_stillRefuses_whatTheCatalogueRefuses() {
        f.validated(1);
        other.reload(M, 1);

        dev.gantry.core.error.GantryException e = assertThrows(dev.gantry.core.error.GantryException.class,
                () -> other.trafficGate().check(M, dev.gantry.store.deployment.TrafficPolicy.single(1), T0));

        assertEquals(dev.gantry.core.error.ErrorCode.FAILED_PRECONDITION, e.code(), e.getMessage());
    }
}
