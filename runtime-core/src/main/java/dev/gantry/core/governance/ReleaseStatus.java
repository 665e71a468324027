package dev.gantry.core.governance;

import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the serving path needs to know about a version's release state: its stage, the sunset of a deprecated
 * version (for {@code Deprecation}/{@code Sunset} headers) and the successor of a deprecated or retired one.
 * {@code since} is when the version entered its stage (for a deprecated one, the Deprecation date).
 */
public record ReleaseStatus(String model, long version, ReleaseStage stage, Optional<Instant> sunset,
                            Optional<Long> successor, Optional<String> reason, Instant since) {
    public ReleaseStatus {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(sunset, "sunset");
        Objects.requireNonNull(successor, "successor");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(since, "since");
    }

    static ReleaseStatus of(ReleaseRecord r) {
        return new ReleaseStatus(r.model(), r.version(), r.stage(), r.sunset(), r.successor(), r.reason(),
                r.updatedAt());
    }

    /** APPROVED, or DEPRECATED before its sunset: may get a primary weight above zero. */
    public boolean mayTakePrimary(Instant now) {
        return stage == ReleaseStage.APPROVED || deprecatedBeforeSunset(now);
    }

    /** VALIDATED, PENDING_APPROVAL, APPROVED, or DEPRECATED before its sunset: may receive shadow traffic. */
    public boolean mayTakeShadow(Instant now) {
        return stage == ReleaseStage.VALIDATED || stage == ReleaseStage.PENDING_APPROVAL
                || stage == ReleaseStage.APPROVED || deprecatedBeforeSunset(now);
    }

    /**
     * Whether requests routed by its model's policy may still reach it: APPROVED, or DEPRECATED (past its sunset
     * too, until the retirement sweep has moved its share to a version that can take it, so a model is never left
     * without one). New policies cannot give it weight past its sunset ({@link #mayTakePrimary}).
     */
    public boolean mayServeRouted() {
        return stage == ReleaseStage.APPROVED || stage == ReleaseStage.DEPRECATED;
    }

    /** RETIRED, or DEPRECATED at or past its sunset: pinned requests get 410 naming the successor. */
    public boolean isGone(Instant now) {
        return stage == ReleaseStage.RETIRED
                || (stage == ReleaseStage.DEPRECATED && sunset.map(s -> !now.isBefore(s)).orElse(false));
    }

    private boolean deprecatedBeforeSunset(Instant now) {
        return stage == ReleaseStage.DEPRECATED && sunset.map(now::isBefore).orElse(false);
    }
}
