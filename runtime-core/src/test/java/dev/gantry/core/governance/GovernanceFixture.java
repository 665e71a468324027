package dev.gantry.core.governance;

import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.ModelCard;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Governance over an in-memory catalogue with a clock the test moves; helpers to walk a version forward. */
final class GovernanceFixture implements AutoCloseable {
    static final String M = "m";
    static final Instant T0 = Instant.parse("2025-06-01T12:00:00Z");
    static final String DIGEST = "sha256:" + "a".repeat(64);
    static final ModelCard LOW_CARD = ModelCard.fromJson("{\"owner\":\"team\",\"description\":\"d\","
            + "\"intended_use\":\"u\",\"risk_tier\":\"low\",\"license\":\"MIT\"}");
    static final ModelCard HIGH_CARD = ModelCard.fromJson("{\"owner\":\"team\",\"description\":\"d\","
            + "\"intended_use\":\"u\",\"risk_tier\":\"high\",\"limitations\":\"l\",\"license\":\"MIT\","
            + "\"out_of_scope_uses\":\"o\",\"risk_notes\":\"r\",\"lineage\":{\"source\":\"s\"},"
            + "\"metrics\":{\"auc\":0.9}}");

    final MutableClock clock = new MutableClock(T0);
    final CatalogStore store = CatalogStore.inMemory(clock);
    final Governance gov = Governance.create(store, CardPolicy.defaults(), clock);
    final TrafficGate gate = gov.trafficGate();

    /** Registered by "uploader", validated by "system". */
    void validated(long v) {
        gov.register(M, v, DIGEST, 10, Actors.as("uploader", "deploy"));
        gov.validationStarted(M, v, Actors.as("system", "system"));
        gov.validationSucceeded(M, v, Actors.as("system", "system"));
    }

    /** Validated, low-tier card, approval requested by "requester", approved by "approver". */
    void approved(long v) {
        validated(v);
        gov.patchCard(M, v, LOW_CARD, Actors.as("uploader", "deploy"));
        gov.requestApproval(M, v, Actors.as("requester", "deploy"), "ready");
        gov.approve(M, v, Actors.as("approver", "approve"), "ok");
    }

    @Override
    public void close() {
        store.close();
    }

    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            now = start;
        }

        void set(Instant t) {
            now = t;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
