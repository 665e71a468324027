package dev.gantry.core.governance;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static dev.gantry.core.governance.GovernanceFixture.DIGEST;
import static dev.gantry.core.governance.GovernanceFixture.M;
import static dev.gantry.core.governance.GovernanceFixture.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The traffic rules, stage by stage, from both sides. */
class TrafficGateTest {
    private static final Set<ReleaseStage> PRIMARY = EnumSet.of(ReleaseStage.APPROVED, ReleaseStage.DEPRECATED);
    private static final Set<ReleaseStage> SHADOW = EnumSet.of(ReleaseStage.VALIDATED, ReleaseStage.PENDING_APPROVAL,
            ReleaseStage.APPROVED, ReleaseStage.DEPRECATED);

    private final GovernanceFixture f = new GovernanceFixture();

    @AfterEach
    void close() {
        f.close();
    }

    /** Version 1 in {@code stage} (written straight to the catalogue), version 2 approved; a fresh gate. */
    private TrafficGate gateWith(ReleaseStage stage) {
        ReleaseRecord base = ReleaseRecord.registered(M, 1, DIGEST, 1, "u", T0);
        ReleaseRecord.Builder b = base.toBuilder().stage(stage);
        if (stage == ReleaseStage.DEPRECATED) {
            b.sunset(Optional.of(T0.plusSeconds(60)));
        }
        if (stage == ReleaseStage.SUSPENDED) {
            b.suspendedFrom(Optional.of(ReleaseStage.APPROVED));
        }
        f.store.insertVersion(b.build());
        f.store.insertVersion(ReleaseRecord.registered(M, 2, DIGEST, 1, "u", T0).toBuilder()
                .stage(ReleaseStage.APPROVED).build());
        return Governance.create(f.store, CardPolicy.defaults(), f.clock).trafficGate();
    }

    private static boolean admits(TrafficGate gate, TrafficPolicy p) {
        try {
            gate.check(M, p, T0);
            return true;
        } catch (GantryException e) {
            assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().startsWith("version 1 of model 'm'"), e.getMessage());
            return false;
        }
    }

    @ParameterizedTest
    @EnumSource(ReleaseStage.class)
    void primaryWeightAboveZero_onlyForApprovedAndDeprecatedBeforeSunset(ReleaseStage stage) {
        TrafficGate gate = gateWith(stage);
        TrafficPolicy p = new TrafficPolicy(List.of(new Route(1, 10), new Route(2, 90)), List.of());
        assertEquals(PRIMARY.contains(stage), admits(gate, p));
    }

    @ParameterizedTest
    @EnumSource(ReleaseStage.class)
    void shadowTraffic_onlyForValidatedPendingApprovedAndDeprecated(ReleaseStage stage) {
        TrafficGate gate = gateWith(stage);
        TrafficPolicy p = new TrafficPolicy(List.of(new Route(2, 100)), List.of(new ShadowRoute(1, 10)));
        assertEquals(SHADOW.contains(stage), admits(gate, p));
    }

    @ParameterizedTest
    @EnumSource(ReleaseStage.class)
    void aRouteOfWeightZero_takesNoTraffic_andIsAllowedInAnyStage(ReleaseStage stage) {
        TrafficGate gate = gateWith(stage);
        assertTrue(admits(gate, new TrafficPolicy(List.of(new Route(1, 0), new Route(2, 100)), List.of())));
    }

    @Test
    void failedVersion_isNamedWithTheRule() {
        TrafficGate gate = gateWith(ReleaseStage.FAILED);
        GantryException e = assertThrows(GantryException.class, () -> gate.check(M, TrafficPolicy.single(1), T0));
        assertEquals("version 1 of model 'm' is FAILED and can never take traffic (weight 100)", e.getMessage());
    }

    @Test
    void pinnedRequests_areServedForStagesThatTakeTraffic_andRefusedOtherwise() {
        TrafficGate validated = gateWith(ReleaseStage.VALIDATED);
        validated.checkPinned(M, 1, T0);
        GantryException e = assertThrows(GantryException.class, () -> validated.checkPinned(M, 9, T0));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
    }

    @Test
    void allowAll_admitsEverything_andKnowsNoStatus() {
        TrafficGate gate = TrafficGate.allowAll();
        gate.check(M, TrafficPolicy.single(42), T0);
        gate.checkPinned(M, 42, T0);
        assertEquals(Optional.empty(), gate.status(M, 42));
    }
}
