package dev.gantry.core.release;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.lifecycle.ArtifactCheck;
import dev.gantry.core.model.ModelId;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.catalog.AuditJson;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.digest.Sha256;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Refuses to load a catalogued version whose model file is not the one registered: the file's SHA-256 is
 * recomputed before every load and compared with the catalogue's; a mismatch is audited as
 * {@code version.load_refused} by the system (once per distinct mismatch per process: a start that tries to load
 * a version twice, from the repository and from its traffic policy, writes one entry).
 */
public final class ArtifactVerifier implements ArtifactCheck {
    /*
     * What is compared: the catalogue's model_file_digest (recorded at registration from the installed files).
     * Rows from before it was recorded have only the artifact's digest, which is the model file's own when the
     * artifact was a raw .onnx or the version was adopted from disk (no digest sidecar); those are compared with
     * it. A bundle's rows cannot be checked (its digest covers the archive) and are loaded with a log line.
     * Versions the catalogue does not know are not this check's business: they are registered and validated.
     */
    private static final Logger log = LoggerFactory.getLogger(ArtifactVerifier.class);

    private final CatalogStore catalog;
    private final ArtifactStore artifacts;
    private final AuditTrail audit;
    /** Mismatches already audited by this process ("model/version sha256:actual"): each is audited once. */
    private final java.util.Set<String> audited = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private ArtifactVerifier(CatalogStore catalog, ArtifactStore artifacts, AuditTrail audit) {
        this.catalog = catalog;
        this.artifacts = artifacts;
        this.audit = audit;
    }

    public static ArtifactVerifier create(CatalogStore catalog, ArtifactStore artifacts, AuditTrail audit) {
        return new ArtifactVerifier(Objects.requireNonNull(catalog, "catalog"),
                Objects.requireNonNull(artifacts, "artifacts"), Objects.requireNonNull(audit, "audit"));
    }

    @Override
    public Optional<String> refusal(ModelId id, Path modelFile) {
        Optional<ReleaseRecord> record = catalog.version(id.name(), id.version());
        if (record.isEmpty()) {
            return Optional.empty();
        }
        ReleaseRecord r = record.get();
        String actual;
        try {
            actual = "sha256:" + Sha256.hex(modelFile);
        } catch (IOException e) {
            return Optional.of("cannot read the model file " + modelFile.getFileName() + " to check its digest: " + e);
        }
        String expected;
        if (r.modelFileDigest().isPresent()) {
            expected = r.modelFileDigest().get();
        } else if (actual.equals(r.digest()) || artifacts.digest(id.name(), id.version()).isEmpty()) {
            expected = r.digest();
        } else {
            log.info("{}: the catalogue has no model file digest (catalogued by an older Gantry) and the artifact"
                    + " {} was a bundle; the model file is loaded unchecked", id, r.digest());
            return Optional.empty();
        }
        if (expected.equals(actual)) {
            return Optional.empty();
        }
        String reason = "model file digest " + actual + " does not match the catalogue's " + expected
                + "; the artifact changed on disk after it was registered";
        try {
            if (!audited.add(r.target() + " " + actual)) {
                log.error("{}: load refused again: {}", id, reason);
                return Optional.of(reason);
            }
            audit.record(Actor.SYSTEM, new AuditTrail.Entry("version.load_refused", r.target(),
                    AuditJson.object("model_file_digest", expected),
                    AuditJson.object("model_file_digest", actual, "reason", reason)));
        } catch (RuntimeException e) {
            audited.remove(r.target() + " " + actual);
            log.error("{}: could not audit the refused load ({})", id, reason, e);
        }
        log.error("{}: load refused: {}", id, reason);
        return Optional.of(reason);
    }
}
