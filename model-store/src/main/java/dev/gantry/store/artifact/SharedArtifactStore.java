package dev.gantry.store.artifact;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.InstallResult.Outcome;
import dev.gantry.store.digest.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link ArtifactStore} whose source of truth is an {@link ObjectStore} shared by every replica, with the local
 * model repository as this replica's cache (ONNX Runtime loads files, not objects).
 */
final class SharedArtifactStore implements ArtifactStore {
    /*
     * What is shared: one object per version, <prefix>/<model>/<version>/artifact, holding the upload exactly as
     * received (a raw .onnx or a bundle) with its SHA-256 in the object's metadata. What is per replica: the
     * unpacked version directory in the local repository, built by the DiskArtifactStore from that object.
     *
     * Install order: HEAD (a version already in the bucket with other bytes is refused before anything is
     * unpacked); the local store unpacks and checks the upload in a hidden directory; then, still hidden, the
     * upload goes to the bucket with If-None-Match: *; then the caller's BeforePublish (the catalogue record); then
     * the local rename. So the bucket only ever holds artifacts that unpacked and checked, and nothing is visible
     * locally or in the catalogue before the shared copy is durable. A crash after the write and before the
     * catalogue commit leaves an object without a record: the same bytes can be uploaded again (IDENTICAL), other
     * bytes for that version are refused.
     *
     * Immutability is the conditional write where the server honours it (AWS S3, MinIO, Ceph), and a HEAD before
     * and after the write where it does not (s3proxy 2.6 ignores If-None-Match on PUT): the check after the write
     * turns a lost race into CONFLICT for the loser, although on such a server the winner's bytes were briefly
     * replaced; every fetch verifies the digest against the catalogue, so a replaced object is never loaded.
     *
     * Fetch: the object is streamed into the staging directory while its SHA-256 is computed (never held in
     * memory, never more than the upload limit), compared with the catalogue's digest and the object's recorded
     * one, and only then installed locally like an upload. A mismatch is CORRUPT and leaves nothing behind.
     */
    private static final Logger LOG = LoggerFactory.getLogger(SharedArtifactStore.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final DiskArtifactStore local;
    private final ObjectStore objects;

    SharedArtifactStore(DiskArtifactStore local, ObjectStore objects) {
        this.local = local;
        this.objects = objects;
    }

    static String key(String model, long version) {
        return model + "/" + version + "/artifact";
    }

    @Override
    public ArtifactLimits limits() {
        return local.limits();
    }

    @Override
    public Path stagingDirectory() {
        return local.stagingDirectory();
    }

    @Override
    public boolean isShared() {
        return true;
    }

    @Override
    public String location() {
        String root = objects.describe("");
        return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    }

    @Override
    public InstallResult install(String model, long version, Path upload, String sha256Hex,
                                 BeforePublish beforePublish) throws ArtifactException {
        if (sha256Hex == null || !DiskArtifactStore.validTarget(model, version)) {
            return local.install(model, version, upload, sha256Hex, beforePublish); // refuses it, naming why
        }
        String digest = sha256Hex.toLowerCase(Locale.ROOT);
        String key = key(model, version);
        Optional<ObjectStore.StoredObject> shared;
        Path keep;
        try {
            shared = objects.head(key);
            if (shared.isPresent() && !shared.get().sha256().equals(Optional.of(digest))) {
                throw conflict(model, version, key, shared.get(), digest);
            }
            keep = keepCopy(upload);
        } catch (IOException e) {
            deleteQuietly(upload);
            throw new ArtifactException(Reason.IO, "cannot install " + model + " version " + version + ": " + e, e);
        } catch (ArtifactException e) {
            deleteQuietly(upload);
            throw e;
        }
        try {
            InstallResult result = local.install(model, version, upload, digest, directory -> {
                if (shared.isEmpty()) {
                    push(model, version, key, keep, digest);
                }
            }, beforePublish);
            if (result.outcome() == Outcome.IDENTICAL && shared.isEmpty()) {
                push(model, version, key, keep, digest); // installed locally before the bucket was configured
            }
            return result;
        } finally {
            deleteQuietly(keep);
        }
    }

    /** Writes the artifact to the bucket unless it is there with the same digest; CONFLICT if with another. */
    private void push(String model, long version, String key, Path file, String digest) throws ArtifactException {
        try {
            boolean written = objects.putIfAbsent(key, file, digest);
            Optional<ObjectStore.StoredObject> stored = objects.head(key);
            if (stored.isEmpty()) {
                throw new ArtifactException(Reason.IO, objects.describe(key) + " is missing right after it was"
                        + " written; the store does not read its own writes");
            }
            if (!stored.get().sha256().equals(Optional.of(digest))) {
                throw conflict(model, version, key, stored.get(), digest);
            }
            if (written) {
                LOG.info("Wrote {} ({} bytes, sha256 {})", objects.describe(key), stored.get().sizeBytes(), digest);
            }
        } catch (IOException e) {
            throw new ArtifactException(Reason.IO, "cannot write " + model + " version " + version + " to the"
                    + " shared artifact store: " + e.getMessage(), e);
        }
    }

    private ArtifactException conflict(String model, long version, String key, ObjectStore.StoredObject stored,
                                       String digest) {
        return new ArtifactException(Reason.CONFLICT, "version " + model + "/" + version + " already exists in "
                + objects.describe(key) + " with sha256 " + stored.sha256().orElse("(none recorded)")
                + "; the upload's sha256 is " + digest + "; versions are immutable: upload a new version");
    }

    @Override
    public Availability fetch(String model, long version, String expectedSha256) throws ArtifactException {
        if (!DiskArtifactStore.validTarget(model, version)) {
            return Availability.MISSING;
        }
        if (local.fetch(model, version, expectedSha256) == Availability.LOCAL) {
            return Availability.LOCAL;
        }
        String expected = expectedSha256 == null ? "" : expectedSha256.strip().toLowerCase(Locale.ROOT);
        if (expected.startsWith("sha256:")) {
            expected = expected.substring("sha256:".length());
        }
        if (!SHA256.matcher(expected).matches()) {
            throw new IllegalArgumentException("expectedSha256 must be 64 hex digits, was " + expectedSha256);
        }
        String key = key(model, version);
        Path part = stagingDirectory().resolve("fetch-" + UUID.randomUUID() + ".part");
        try {
            Optional<ObjectStore.StoredObject> stored = objects.head(key);
            if (stored.isEmpty()) {
                return Availability.MISSING;
            }
            String actual = download(key, part);
            if (!actual.equals(expected)) {
                throw new ArtifactException(Reason.CORRUPT, objects.describe(key) + " has sha256 " + actual
                        + " but the catalogue registered " + expected + " for " + model + " version " + version
                        + ": the shared copy was changed after it was uploaded; it is not installed or loaded");
            }
            if (!stored.get().sha256().equals(Optional.of(actual))) {
                throw new ArtifactException(Reason.CORRUPT, objects.describe(key) + " has sha256 " + actual
                        + " but its recorded sha256 is " + stored.get().sha256().orElse("(none)")
                        + "; it is not installed or loaded");
            }
            InstallResult result = local.install(model, version, part, actual);
            LOG.info("Fetched {} version {} from {} ({} bytes, sha256 {}, {})", model, version,
                    objects.describe(key), result.sizeBytes(), actual, result.outcome());
            return Availability.FETCHED;
        } catch (IOException e) {
            throw new ArtifactException(Reason.IO, "cannot fetch " + model + " version " + version + " from "
                    + objects.describe(key) + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(part);
        }
    }

    /** Streams the object into {@code part}, at most the upload limit; its SHA-256, lowercase hex. */
    private String download(String key, Path part) throws IOException, ArtifactException {
        MessageDigest md = Sha256.newDigest();
        long max = limits().maxUploadBytes();
        long total = 0;
        try (InputStream in = objects.open(key);
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW,
                     StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > max) {
                    throw new ArtifactException(Reason.CORRUPT, objects.describe(key) + " is larger than the"
                            + " upload limit of " + max + " bytes; it is not installed");
                }
                md.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** A second name for the upload (a hard link, else a copy): the local install consumes the first. */
    private Path keepCopy(Path upload) throws IOException {
        Path keep = stagingDirectory().resolve("keep-" + UUID.randomUUID() + ".part");
        try {
            Files.createLink(keep, upload);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(upload, keep);
        }
        return keep;
    }

    @Override
    public List<Path> cleanStaging() {
        return local.cleanStaging();
    }

    @Override
    public Optional<String> digest(String model, long version) {
        return local.digest(model, version);
    }

    @Override
    public void close() {
        objects.close();
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("Cannot delete {}: {}", path, e.toString());
        }
    }
}
