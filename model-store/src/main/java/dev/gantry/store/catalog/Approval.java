package dev.gantry.store.catalog;

import java.time.Instant;
import java.util.Objects;

/**
 * One approval decision on a version, bound to the artifact digest and the hash of the model card's required
 * fields at the time of the decision. A voided approval no longer counts (a required card field changed).
 */
public record Approval(String model, long version, String approver, String role, Instant time, String digest,
                       String cardHash, Decision decision, String reason, boolean voided) {
    public enum Decision {
        APPROVE,
        REJECT
    }

    public Approval {
        Checks.name("model", model);
        Checks.version("version", version);
        Checks.name("approver", approver);
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(time, "time");
        Checks.digest("digest", digest);
        Checks.sha256Hex("cardHash", cardHash);
        Objects.requireNonNull(decision, "decision");
        reason = reason == null ? "" : reason;
    }

    public Approval asVoided() {
        return new Approval(model, version, approver, role, time, digest, cardHash, decision, reason, true);
    }
}
