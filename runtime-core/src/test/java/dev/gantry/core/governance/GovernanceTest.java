package dev.gantry.core.governance;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.Optional;

import static dev.gantry.core.governance.GovernanceFixture.DIGEST;
import static dev.gantry.core.governance.GovernanceFixture.HIGH_CARD;
import static dev.gantry.core.governance.GovernanceFixture.LOW_CARD;
import static dev.gantry.core.governance.GovernanceFixture.M;
import static dev.gantry.core.governance.GovernanceFixture.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GovernanceTest {
    private final GovernanceFixture f = new GovernanceFixture();
    private final Governance gov = f.gov;

    @AfterEach
    void close() {
        f.close();
    }

    private static GantryException refused(ErrorCode code, Executable step) {
        GantryException e = assertThrows(GantryException.class, step);
        assertEquals(code, e.code(), e.getMessage());
        return e;
    }

    private ReleaseStage stage(long v) {
        return gov.version(M, v).orElseThrow().stage();
    }

    private List<String> actions() {
        return f.store.audit(AuditQuery.all()).reversed().stream().map(AuditEntry::action).toList();
    }

    @Test
    void fullWalk_fromRegisteredToRetired_auditsEveryStepInOneIntactChain() {
        f.approved(1);
        f.approved(2);
        gov.deprecate(M, 1, Actors.as("deployer", "deploy"), T0.plusSeconds(3600), Optional.of(2L), "v2 is better");
        assertEquals(List.of(), gov.retireDue(T0.plusSeconds(3599)));

        List<Retirement> retired = gov.retireDue(T0.plusSeconds(3600));

        assertEquals(List.of(new Retirement(M, 1, Optional.of(2L))), retired);
        assertEquals(ReleaseStage.RETIRED, stage(1));
        assertEquals(ReleaseStage.APPROVED, stage(2));
        List<String> oneVersion = List.of("version.register", "version.validation_start", "version.validated",
                "card.update", "approval.request", "approval.approve");
        List<String> expected = new java.util.ArrayList<>(oneVersion);
        expected.addAll(oneVersion);
        expected.addAll(List.of("version.deprecate", "version.retire"));
        assertEquals(expected, actions());
        assertTrue(f.store.verifyAudit().ok());
        AuditEntry retire = f.store.audit(AuditQuery.all().version(M, 1)).get(0);
        assertEquals("system", retire.actor());
        assertTrue(retire.before().contains("\"stage\":\"DEPRECATED\""), retire.before());
        assertTrue(retire.after().contains("\"stage\":\"RETIRED\""), retire.after());
    }

    @Test
    void register_sameDigestAgain_isIdempotent_otherDigestIsRefused() {
        ReleaseRecord first = gov.register(M, 1, "A".repeat(64), 10, Actors.as("uploader", "deploy"));
        assertEquals(DIGEST, first.digest());
        assertEquals(first, gov.register(M, 1, DIGEST, 10, Actors.as("someone", "deploy")));
        assertEquals(List.of("version.register"), actions());

        GantryException e = refused(ErrorCode.ALREADY_EXISTS, () -> gov.register(M, 1, "sha256:" + "b".repeat(64),
                10, Actors.as("uploader", "deploy")));
        assertTrue(e.getMessage().startsWith("version 1 of model 'm' is already registered with digest sha256:aaa"),
                e.getMessage());
    }

    @Test
    void register_withMalformedDigest_isInvalid() {
        GantryException e = refused(ErrorCode.INVALID_ARG, () -> gov.register(M, 1, "md5:abc", 10, Actors.as("u", "deploy")));
        assertTrue(e.getMessage().startsWith("digest must be 'sha256:' followed by 64"), e.getMessage());
    }

    @Test
    void transition_ofUnknownVersion_isNotFound() {
        GantryException e = refused(ErrorCode.NOT_FOUND, () -> gov.validationStarted(M, 9, Actors.as("system", "system")));
        assertEquals("version 9 of model 'm' is not in the catalogue", e.getMessage());
    }

    @Test
    void validationSucceeded_withoutValidationStarted_isRefused() {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.validationSucceeded(M, 1, Actors.as("s", "system")));
        assertEquals("cannot mark validated version 1 of model 'm': it is REGISTERED, and only a VALIDATING version "
                + "can be", e.getMessage());
    }

    @Test
    void validationFailed_isFinal() {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        gov.validationStarted(M, 1, Actors.as("system", "system"));
        ReleaseRecord failed = gov.validationFailed(M, 1, "output differs from batch of one", Actors.as("system", "system"));

        assertEquals(ReleaseStage.FAILED, failed.stage());
        assertEquals(Optional.of("output differs from batch of one"), failed.reason());
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.validationStarted(M, 1, Actors.as("system", "system")));
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.requestApproval(M, 1, Actors.as("r", "deploy"), ""));
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.suspend(M, 1, Actors.as("admin", "admin"), ""));
    }

    @Test
    void approve_byTheUploader_isForbidden() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        GantryException e = refused(ErrorCode.FORBIDDEN, () -> gov.approve(M, 1, Actors.as("uploader", "admin"), ""));
        assertEquals("approval refused: the approver 'uploader' uploaded this version (separation of duties)",
                e.getMessage());
        assertEquals(ReleaseStage.PENDING_APPROVAL, stage(1));
    }

    @Test
    void approve_byTheRequester_isForbidden() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        GantryException e = refused(ErrorCode.FORBIDDEN, () -> gov.approve(M, 1, Actors.as("requester", "approve"), ""));
        assertEquals("approval refused: the approver 'requester' requested this approval (separation of duties)",
                e.getMessage());
    }

    @Test
    void approve_byAThirdKey_approvesALowTierVersion_boundToDigestAndCardHash() {
        f.approved(1);
        assertEquals(ReleaseStage.APPROVED, stage(1));
        Approval a = gov.approvals(M, 1).get(0);
        assertEquals("approver", a.approver());
        assertEquals(DIGEST, a.digest());
        assertEquals(gov.cardPolicy().requiredFieldsHash(LOW_CARD), a.cardHash());
    }

    @Test
    void approve_withEmptyRequiredFields_isRefusedNamingThem_andLeavesNoAuditEntry() {
        f.validated(1);
        ModelCard complete = ModelCard.fromJson("{\"owner\":\"o\",\"description\":\"d\",\"intended_use\":\"u\","
                + "\"risk_tier\":\"medium\",\"license\":\"MIT\",\"limitations\":\"l\"}");
        gov.patchCard(M, 1, complete, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        gov.patchCard(M, 1, complete.withPatch("{\"license\":null,\"limitations\":null}"), Actors.as("uploader", "deploy"));
        int before = f.store.audit(AuditQuery.all()).size();

        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.approve(M, 1, Actors.as("approver", "approve"), ""));

        assertEquals("approval refused: required card fields are empty: [license, limitations]", e.getMessage());
        assertEquals(before, f.store.audit(AuditQuery.all()).size());
        assertEquals(List.of(), gov.approvals(M, 1));
    }

    @Test
    void requestApproval_withIncompleteCard_isRefusedListingTheEmptyFields() {
        f.validated(1);
        gov.patchCard(M, 1, ModelCard.fromJson("{\"owner\":\"o\",\"risk_tier\":\"low\"}"), Actors.as("uploader", "deploy"));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION,
                () -> gov.requestApproval(M, 1, Actors.as("requester", "deploy"), ""));
        assertEquals("cannot request approval of version 1 of model 'm': required card fields are empty: "
                + "[description, intended_use]", e.getMessage());
        assertEquals(ReleaseStage.VALIDATED, stage(1));
    }

    @Test
    void approve_byAKeyTheUploaderMade_isForbidden() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        Governance withLineage = Governance.create(f.store, CardPolicy.defaults(), f.clock,
                name -> name.equals("uploaders-puppet") ? List.of("uploader") : List.of());
        GantryException e = refused(ErrorCode.FORBIDDEN,
                () -> withLineage.approve(M, 1, Actors.as("uploaders-puppet", "approve"), ""));
        assertTrue(e.getMessage().contains("acts for 'uploader'"), e.getMessage());
        assertEquals(ReleaseStage.PENDING_APPROVAL, stage(1));
    }

    @Test
    void approve_withoutAnyCard_isRefused() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        gov.patchCard(M, 1, ModelCard.EMPTY, Actors.as("uploader", "deploy"));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.approve(M, 1, Actors.as("approver", "approve"), ""));
        assertEquals("approval refused: required card fields are empty: [description, intended_use, owner, "
                + "risk_tier]", e.getMessage());
    }

    @Test
    void highRiskTier_needsTwoDistinctApprovers_andIsApprovedOnTheSecond() {
        f.validated(1);
        gov.patchCard(M, 1, HIGH_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");

        assertEquals(ReleaseStage.PENDING_APPROVAL, gov.approve(M, 1, Actors.as("bob", "approve"), "").stage());
        GantryException e = refused(ErrorCode.FORBIDDEN, () -> gov.approve(M, 1, Actors.as("bob", "approve"), "again"));
        assertEquals("high risk tier needs a second approver distinct from 'bob'", e.getMessage());
        refused(ErrorCode.FORBIDDEN, () -> gov.approve(M, 1, Actors.as("uploader", "approve"), ""));
        assertTrue(f.gate.status(M, 1).orElseThrow().mayTakeShadow(T0));
        assertTrue(!f.gate.status(M, 1).orElseThrow().mayTakePrimary(T0));

        assertEquals(ReleaseStage.APPROVED, gov.approve(M, 1, Actors.as("carol", "approve"), "").stage());
        assertEquals(List.of("bob", "carol"), gov.approvals(M, 1).stream().map(Approval::approver).toList());
    }

    @Test
    void patchCard_changingARequiredField_voidsTheApproval_andSendsTheVersionBackToValidated() {
        f.approved(1);
        ReleaseRecord r = gov.patchCard(M, 1, LOW_CARD.withPatch(ModelCard.parse("{\"owner\":\"someone else\"}")),
                Actors.as("uploader", "deploy"));

        assertEquals(ReleaseStage.VALIDATED, r.stage());
        assertEquals(Optional.of("approval voided: required card fields changed: [owner]"), r.reason());
        assertTrue(gov.approvals(M, 1).stream().allMatch(Approval::voided));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> f.gate.check(M, TrafficPolicy.single(1), T0));
        assertTrue(e.getMessage().startsWith("version 1 of model 'm' is VALIDATED: only APPROVED versions"),
                e.getMessage());
        AuditEntry edit = f.store.audit(AuditQuery.all()).get(0);
        assertEquals("card.update", edit.action());
        assertTrue(edit.after().contains("\"changed\":[\"owner\"]"), edit.after());
    }

    @Test
    void patchCard_changingAnOptionalField_keepsTheApproval() {
        f.approved(1);
        ReleaseRecord r = gov.patchCard(M, 1, LOW_CARD.withPatch(ModelCard.parse("{\"tags\":[\"x\"]}")),
                Actors.as("uploader", "deploy"));
        assertEquals(ReleaseStage.APPROVED, r.stage());
        assertTrue(gov.approvals(M, 1).stream().noneMatch(Approval::voided));
        assertEquals(Optional.of(LOW_CARD.withPatch(ModelCard.parse("{\"tags\":[\"x\"]}"))), gov.card(M, 1));
    }

    @Test
    void patchCard_ofPendingVersionWithoutApprovals_keepsItPending() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD.withPatch("{\"description\":\"first\"}"), Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        assertEquals(ReleaseStage.PENDING_APPROVAL, gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy")).stage());
        assertEquals(ReleaseStage.APPROVED, gov.approve(M, 1, Actors.as("approver", "approve"), "").stage());
    }

    @Test
    void patchCard_afterFirstOfTwoHighTierApprovals_voidsIt() {
        f.validated(1);
        gov.patchCard(M, 1, HIGH_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        gov.approve(M, 1, Actors.as("bob", "approve"), "");

        ReleaseRecord r = gov.patchCard(M, 1, HIGH_CARD.withPatch(ModelCard.parse("{\"risk_notes\":\"new\"}")),
                Actors.as("uploader", "deploy"));

        assertEquals(ReleaseStage.VALIDATED, r.stage());
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        assertEquals(ReleaseStage.PENDING_APPROVAL, gov.approve(M, 1, Actors.as("carol", "approve"), "").stage());
    }

    @Test
    void reject_isFinal_andTheVersionNeverTakesTraffic() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "");
        assertEquals(ReleaseStage.REJECTED, gov.reject(M, 1, Actors.as("approver", "approve"), "bias found").stage());
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.requestApproval(M, 1, Actors.as("requester", "deploy"), ""));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> f.gate.check(M,
                new TrafficPolicy(List.of(new dev.gantry.store.deployment.Route(2, 100)),
                        List.of(new dev.gantry.store.deployment.ShadowRoute(1, 10))), T0));
        assertTrue(e.getMessage().startsWith("version 2 of model 'm' is not in the catalogue"), e.getMessage());
        assertTrue(e.getMessage().contains("; version 1 of model 'm' is REJECTED and can never take traffic "
                + "(shadow 10%)"), e.getMessage());
    }

    @Test
    void suspend_thenResumeByAnAdmin_returnsToTheStageItWasSuspendedFrom() {
        f.approved(1);
        ReleaseRecord s = gov.suspend(M, 1, Actors.as("oncall", "deploy"), "bad outputs");
        assertEquals(ReleaseStage.SUSPENDED, s.stage());
        assertEquals(Optional.of(ReleaseStage.APPROVED), s.suspendedFrom());
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> f.gate.check(M, TrafficPolicy.single(1), T0));
        assertEquals("version 1 of model 'm' is SUSPENDED and takes no traffic until an admin resumes it "
                + "(weight 100)", e.getMessage());

        GantryException notAdmin = refused(ErrorCode.FORBIDDEN, () -> gov.resume(M, 1, Actors.as("oncall", "deploy"), ""));
        assertEquals("only an admin may resume a suspended version; 'oncall' acted as deploy", notAdmin.getMessage());

        ReleaseRecord back = gov.resume(M, 1, Actors.as("root", "admin"), "fixed");
        assertEquals(ReleaseStage.APPROVED, back.stage());
        assertEquals(Optional.empty(), back.suspendedFrom());
        f.gate.check(M, TrafficPolicy.single(1), T0);
    }

    @Test
    void suspend_ofAVersionThatTakesNoTraffic_isRefused() {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.suspend(M, 1, Actors.as("a", "admin"), ""));
        assertEquals("cannot suspend version 1 of model 'm': it is REGISTERED and takes no traffic to stop",
                e.getMessage());
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.resume(M, 1, Actors.as("a", "admin"), ""));
    }

    @Test
    void patchCard_ofSuspendedApprovedVersion_makesItResumeToValidated() {
        f.approved(1);
        gov.suspend(M, 1, Actors.as("oncall", "deploy"), "");
        gov.patchCard(M, 1, LOW_CARD.withPatch(ModelCard.parse("{\"description\":\"new\"}")), Actors.as("uploader", "deploy"));
        assertEquals(ReleaseStage.VALIDATED, gov.resume(M, 1, Actors.as("root", "admin"), "").stage());
    }

    @Test
    void deprecate_servesUntilSunset_thenRetiredVersionIsGoneNamingTheSuccessor() {
        f.approved(1);
        f.approved(2);
        gov.deprecate(M, 1, Actors.as("deployer", "deploy"), T0.plusSeconds(60), Optional.of(2L), "");
        ReleaseStatus st = f.gate.status(M, 1).orElseThrow();
        assertEquals(Optional.of(T0.plusSeconds(60)), st.sunset());

        f.gate.check(M, TrafficPolicy.single(1), T0.plusSeconds(59));
        f.gate.checkPinned(M, 1, T0.plusSeconds(59));
        GantryException past = refused(ErrorCode.FAILED_PRECONDITION, () -> f.gate.check(M, TrafficPolicy.single(1),
                T0.plusSeconds(60)));
        assertTrue(past.getMessage().contains("past its sunset"), past.getMessage());

        gov.retireDue(T0.plusSeconds(60));
        GantryException gone = refused(ErrorCode.GONE, () -> f.gate.checkPinned(M, 1, T0.plusSeconds(61)));
        assertEquals("version 1 of model 'm' is retired; use version 2", gone.getMessage());
        assertEquals(Optional.of(2L), f.gate.status(M, 1).orElseThrow().successor());
    }

    @Test
    void deprecate_withPastSunsetOrUnapprovedSuccessor_isRefused() {
        f.approved(1);
        f.validated(2);
        GantryException past = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.deprecate(M, 1, Actors.as("d", "deploy"),
                T0.minusSeconds(1), Optional.empty(), ""));
        assertTrue(past.getMessage().startsWith("sunset 2025-06-01T11:59:59Z of version 1 of model 'm' is in the past"),
                past.getMessage());
        GantryException succ = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.deprecate(M, 1, Actors.as("d", "deploy"),
                T0.plusSeconds(60), Optional.of(2L), ""));
        assertEquals("successor version 2 of model 'm' is VALIDATED; a successor must be APPROVED", succ.getMessage());
        refused(ErrorCode.NOT_FOUND, () -> gov.deprecate(M, 1, Actors.as("d", "deploy"), T0.plusSeconds(60), Optional.of(7L), ""));
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.deprecate(M, 2, Actors.as("d", "deploy"), T0.plusSeconds(60),
                Optional.empty(), ""));
    }

    @Test
    void registerExisting_approvesAVersionFoundAtStart_once_andChecksItsDigest() {
        ReleaseRecord r = gov.registerExisting(M, 1, DIGEST, 10);
        assertEquals(ReleaseStage.APPROVED, r.stage());
        assertEquals(Optional.of("present in the repository at start"), r.reason());
        assertEquals(r, gov.registerExisting(M, 1, DIGEST, 10));
        assertEquals(List.of("version.register_existing"), actions());
        f.gate.check(M, TrafficPolicy.single(1), T0);

        GantryException e = refused(ErrorCode.FAILED_PRECONDITION, () -> gov.registerExisting(M, 1,
                "sha256:" + "c".repeat(64), 10));
        assertTrue(e.getMessage().contains("the artifact was replaced outside Gantry"), e.getMessage());
        refused(ErrorCode.FAILED_PRECONDITION, () -> gov.checkDigest(M, 1, "c".repeat(64)));
        gov.checkDigest(M, 1, DIGEST);
    }

    @Test
    void patchCard_ofAVersionApprovedAtStart_hasNoApprovalToVoid() {
        gov.registerExisting(M, 1, DIGEST, 10);
        assertEquals(ReleaseStage.APPROVED, gov.patchCard(M, 1, LOW_CARD, Actors.as("owner", "deploy")).stage());
    }

    @Test
    void statuses_areReadBackFromTheCatalogue_byANewGovernance() {
        f.approved(1);
        Governance again = Governance.create(f.store, CardPolicy.defaults(), f.clock);
        assertEquals(ReleaseStage.APPROVED, again.trafficGate().status(M, 1).orElseThrow().stage());
        again.trafficGate().check(M, TrafficPolicy.single(1), T0);
    }

    @Test
    void everyTransition_recordsActorRoleAndBeforeAfter() {
        f.validated(1);
        gov.patchCard(M, 1, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, 1, Actors.as("requester", "deploy"), "ship it");
        AuditEntry e = f.store.audit(AuditQuery.all().actor("requester")).get(0);
        assertEquals("deploy", e.role());
        assertEquals("m/1", e.target());
        assertTrue(e.before().contains("\"stage\":\"VALIDATED\""), e.before());
        assertTrue(e.after().contains("\"stage\":\"PENDING_APPROVAL\""), e.after());
        assertTrue(e.after().contains("\"note\":\"ship it\""), e.after());
    }
}
