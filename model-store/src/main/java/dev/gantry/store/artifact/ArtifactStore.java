package dev.gantry.store.artifact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Installs uploaded model artifacts (a raw {@code .onnx}, or a {@code .tar.gz}/{@code .zip} bundle holding
 * {@code model.onnx}) into a Triton-layout repository as {@code <model>/<version>/}, atomically and immutably.
 */
public interface ArtifactStore extends AutoCloseable {

    /**
     * A store installing into {@code repositoryRoot}; creates its staging directory.
     *
     * @throws IllegalArgumentException if {@code repositoryRoot} is not a directory
     * @throws UncheckedIOException     if the staging directory cannot be created
     */
    static ArtifactStore inRepository(Path repositoryRoot, ArtifactLimits limits) {
        if (!Files.isDirectory(repositoryRoot)) {
            throw new IllegalArgumentException("model repository " + repositoryRoot + " is not a directory");
        }
        try {
            return new DiskArtifactStore(repositoryRoot, limits, Checkpoint.NONE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create staging directory in " + repositoryRoot, e);
        }
    }

    /**
     * A store whose source of truth is an S3 bucket, with {@code repositoryRoot} as this server's local cache:
     * uploads are written to the bucket (and installed locally), versions missing locally are fetched from it on
     * demand, their SHA-256 checked.
     *
     * @throws IllegalArgumentException if {@code repositoryRoot} is not a directory
     * @throws UncheckedIOException     if the staging directory cannot be created
     */
    static ArtifactStore shared(Path repositoryRoot, ArtifactLimits limits, S3Settings s3) {
        ArtifactStore local = inRepository(repositoryRoot, limits);
        return new SharedArtifactStore((DiskArtifactStore) local, S3ObjectStore.open(s3));
    }

    /** Whether a version's files are in the local repository, after {@link #fetch}. */
    enum Availability {
        /** They were there already. */
        LOCAL,
        /** They were fetched from the shared store just now, their digest checked. */
        FETCHED,
        /** Neither here nor in a shared store. */
        MISSING
    }

    /**
     * Makes sure {@code model}/{@code version} is in the local repository, fetching it from the shared store (if
     * this store has one) when it is not. A fetched artifact is installed only if its SHA-256 equals
     * {@code expectedSha256} (the catalogue's) and the digest recorded with the object.
     *
     * @param expectedSha256 lowercase hex, with or without a {@code sha256:} prefix
     * @throws ArtifactException {@link ArtifactException.Reason#CORRUPT} when the shared copy's bytes do not match,
     *     IO when the shared store cannot be read
     */
    default Availability fetch(String model, long version, String expectedSha256) throws ArtifactException {
        return digest(model, version).isPresent() ? Availability.LOCAL : Availability.MISSING;
    }

    /** Whether artifacts are kept in a store shared with other servers, which {@link #fetch} reads. */
    default boolean isShared() {
        return false;
    }

    /** Where the artifacts are kept, for logs: the repository directory, or {@code s3://bucket/prefix}. */
    default String location() {
        return stagingDirectory().getParent().toString();
    }

    /** Releases the connection to a shared store; nothing for a local one. */
    @Override
    default void close() {
    }

    /** The limits uploads are held to; the HTTP layer enforces {@code maxUploadBytes} while it streams. */
    ArtifactLimits limits();

    /**
     * Where the HTTP layer streams uploads: {@code <root>/.staging}, hidden so the repository scanner skips it,
     * and on the repository's file system so an upload moves into place without a copy.
     */
    Path stagingDirectory();

    /**
     * Installs {@code upload} as {@code <model>/<version>}: either the complete version appears at once or
     * nothing does. Versions are immutable: installing the same bytes again is {@link InstallResult.Outcome#IDENTICAL}
     * and writes nothing; different bytes are a {@link ArtifactException.Reason#CONFLICT}. The upload is consumed:
     * moved into the version or deleted, whatever the outcome.
     *
     * @param sha256Hex the upload's SHA-256 as computed while it was received (trusted, not recomputed)
     */
    default InstallResult install(String model, long version, Path upload, String sha256Hex) throws ArtifactException {
        return install(model, version, upload, sha256Hex, BeforePublish.NONE);
    }

    /**
     * As {@link #install(String, long, Path, String)}, and {@code beforePublish} runs once the version is
     * complete and durable in its hidden directory, just before the rename that makes it visible to the
     * repository scan (only when this call creates the version). If it throws, the version is not installed,
     * its files are removed and the exception propagates unchanged.
     */
    InstallResult install(String model, long version, Path upload, String sha256Hex, BeforePublish beforePublish)
            throws ArtifactException;

    /** Runs between preparing a version and publishing it: for registering it durably first. */
    @FunctionalInterface
    interface BeforePublish {
        BeforePublish NONE = (prepared, directory) -> { };

        /**
         * @param prepared what the version will hold once published ({@link InstallResult.Outcome#CREATED})
         * @param directory the prepared (still hidden) version directory, for reading its files
         */
        void prepared(InstallResult prepared, Path directory);
    }

    /**
     * Deletes what interrupted uploads left behind: every file in the staging directory and every half-built
     * {@code <model>/.incoming-*} directory. Call it at start, before uploads are accepted.
     *
     * @return the paths deleted
     */
    List<Path> cleanStaging();

    /** The digest recorded for an installed version, if it was installed through this store. */
    Optional<String> digest(String model, long version);
}
