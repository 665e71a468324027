package dev.gantry.store.catalog;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the catalogue knows about one model version: its lifecycle stage and artifact, who uploaded it, and the
 * stage-specific facts (why it failed or lost its approval, who asked for approval, when it is sunset and what
 * succeeds it, which stage it was suspended from).
 *
 * @param digest {@code sha256:<64 hex>} of the artifact; never changes for a version
 * @param reason the failure, or the "approval voided: ..." note, or the last transition's reason
 * @param modelFileDigest {@code sha256:<64 hex>} of the model file ONNX Runtime loads (the artifact itself for a
 *     raw {@code .onnx}, {@code model.onnx} of a bundle); empty for versions catalogued before it was recorded
 */
public record ReleaseRecord(String model, long version, ReleaseStage stage, String digest, long sizeBytes,
                            String uploadedBy, Instant uploadedAt, Optional<String> reason,
                            Optional<String> approvalRequestedBy, Optional<Instant> sunset, Optional<Long> successor,
                            Optional<ReleaseStage> suspendedFrom, Instant updatedAt, Optional<String> modelFileDigest) {
    public ReleaseRecord {
        Objects.requireNonNull(modelFileDigest, "modelFileDigest");
        modelFileDigest = modelFileDigest.map(Checks::normalizeDigest);
        Checks.name("model", model);
        Checks.version("version", version);
        Objects.requireNonNull(stage, "stage");
        Checks.digest("digest", digest);
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("sizeBytes must be >= 0, was " + sizeBytes);
        }
        Checks.name("uploadedBy", uploadedBy);
        Objects.requireNonNull(uploadedAt, "uploadedAt");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(approvalRequestedBy, "approvalRequestedBy");
        Objects.requireNonNull(sunset, "sunset");
        Objects.requireNonNull(successor, "successor");
        Objects.requireNonNull(suspendedFrom, "suspendedFrom");
        Objects.requireNonNull(updatedAt, "updatedAt");
        if (stage == ReleaseStage.SUSPENDED) {
            if (suspendedFrom.isEmpty() || !suspendedFrom.get().isSuspendable()) {
                throw new IllegalArgumentException("suspendedFrom of a SUSPENDED version must be VALIDATED, "
                        + "PENDING_APPROVAL, APPROVED or DEPRECATED, was " + suspendedFrom);
            }
        } else if (suspendedFrom.isPresent()) {
            throw new IllegalArgumentException("suspendedFrom must be empty unless the stage is SUSPENDED, stage was "
                    + stage + " and suspendedFrom " + suspendedFrom.get());
        }
        if ((stage == ReleaseStage.DEPRECATED || suspendedFrom.orElse(null) == ReleaseStage.DEPRECATED)
                && sunset.isEmpty()) {
            throw new IllegalArgumentException("sunset must be set for a DEPRECATED version " + version);
        }
        if (successor.isPresent() && successor.get() == version) {
            throw new IllegalArgumentException("successor must be another version than " + version + ", was "
                    + successor.get());
        }
    }

    /** A record without a model file digest (as catalogued before it was recorded). */
    public ReleaseRecord(String model, long version, ReleaseStage stage, String digest, long sizeBytes,
                         String uploadedBy, Instant uploadedAt, Optional<String> reason,
                         Optional<String> approvalRequestedBy, Optional<Instant> sunset, Optional<Long> successor,
                         Optional<ReleaseStage> suspendedFrom, Instant updatedAt) {
        this(model, version, stage, digest, sizeBytes, uploadedBy, uploadedAt, reason, approvalRequestedBy, sunset,
                successor, suspendedFrom, updatedAt, Optional.empty());
    }

    /** A new REGISTERED version. */
    public static ReleaseRecord registered(String model, long version, String digest, long sizeBytes,
                                           String uploadedBy, Instant at) {
        return new ReleaseRecord(model, version, ReleaseStage.REGISTERED, normalizeDigest(digest), sizeBytes,
                uploadedBy, at, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), at);
    }

    /** {@code sha256:<lowercase hex>} from that form or bare hex in any case. */
    public static String normalizeDigest(String digest) {
        return Checks.normalizeDigest(digest);
    }

    /** "model/version", the audit target of this version. */
    public String target() {
        return model + "/" + version;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes a few fields of a record; {@link #build()} validates the result. */
    public static final class Builder {
        private final ReleaseRecord from;
        private ReleaseStage stage;
        private Optional<String> reason;
        private Optional<String> approvalRequestedBy;
        private Optional<Instant> sunset;
        private Optional<Long> successor;
        private Optional<ReleaseStage> suspendedFrom;
        private Instant updatedAt;
        private Optional<String> modelFileDigest;

        private Builder(ReleaseRecord r) {
            from = r;
            stage = r.stage;
            reason = r.reason;
            approvalRequestedBy = r.approvalRequestedBy;
            sunset = r.sunset;
            successor = r.successor;
            suspendedFrom = r.suspendedFrom;
            updatedAt = r.updatedAt;
            modelFileDigest = r.modelFileDigest;
        }

        public Builder modelFileDigest(Optional<String> v) {
            modelFileDigest = v;
            return this;
        }

        public Builder stage(ReleaseStage v) {
            stage = v;
            return this;
        }

        public Builder reason(Optional<String> v) {
            reason = v;
            return this;
        }

        public Builder approvalRequestedBy(Optional<String> v) {
            approvalRequestedBy = v;
            return this;
        }

        public Builder sunset(Optional<Instant> v) {
            sunset = v;
            return this;
        }

        public Builder successor(Optional<Long> v) {
            successor = v;
            return this;
        }

        public Builder suspendedFrom(Optional<ReleaseStage> v) {
            suspendedFrom = v;
            return this;
        }

        public Builder updatedAt(Instant v) {
            updatedAt = v;
            return this;
        }

        public ReleaseRecord build() {
            return new ReleaseRecord(from.model, from.version, stage, from.digest, from.sizeBytes, from.uploadedBy,
                    from.uploadedAt, reason, approvalRequestedBy, sunset, successor, suspendedFrom, updatedAt, modelFileDigest);
        }
    }
}
