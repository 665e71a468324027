package dev.gantry.store.artifact;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.InstallResult.Outcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An {@link ArtifactStore} that builds each version in a hidden directory and renames it into place. */
final class DiskArtifactStore implements ArtifactStore {
    /*
     * Crash safety. A version is built in <model>/.incoming-<version>-<random>/ on the repository's file system:
     * files written and fsynced, then every directory, then the digest sidecar, then one rename makes
     * <model>/<version> appear complete, and an fsync of <model>/ makes the rename itself durable. The scanner
     * skips hidden names, so a crash before the rename leaves nothing it can see (the caller's BeforePublish step,
     * which registers the version in the catalogue, runs just before the rename, so a visible version always has a
     * durable record), and cleanStaging() deletes the
     * leftovers at the next start. The rename never replaces a version: the target is checked under a lock just
     * before, and rename(2) refuses a non-empty target directory should another process win the race.
     */
    private static final Logger LOG = LoggerFactory.getLogger(DiskArtifactStore.class);

    /** The repository scanner's rule for model directory names. */
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    /** The scanner reads versions of at most 18 digits. */
    private static final long MAX_VERSION = 999_999_999_999_999_999L;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    static final String SIDECAR = ".artifact.sha256";
    static final String STAGING = ".staging";
    static final String INCOMING_PREFIX = ".incoming-";
    static final String MODEL_FILE = "model.onnx";
    private static final String CARD_FILE = "card.json";
    private static final String CONFIG_FILE = "config.json";
    private static final int MAX_JSON_BYTES = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final Path staging;
    private final ArtifactLimits limits;
    private final Checkpoint checkpoint;
    /** Guards the last check that a version is absent and the rename that creates it. */
    private final Object renameLock = new Object();

    DiskArtifactStore(Path root, ArtifactLimits limits, Checkpoint checkpoint) throws IOException {
        this.root = root;
        this.staging = Files.createDirectories(root.resolve(STAGING));
        this.limits = Objects.requireNonNull(limits, "limits");
        this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
    }

    @Override
    public ArtifactLimits limits() {
        return limits;
    }

    @Override
    public Path stagingDirectory() {
        return staging;
    }

    @Override
    public InstallResult install(String model, long version, Path upload, String sha256Hex,
                                 BeforePublish beforePublish) throws ArtifactException {
        return install(model, version, upload, sha256Hex, Staged.NONE, beforePublish);
    }

    /** Runs once a new version is complete and durable in its hidden directory, before the publishing lock. */
    @FunctionalInterface
    interface Staged {
        Staged NONE = directory -> { };

        void ready(Path directory) throws ArtifactException, IOException;
    }

    /** As {@link #install(String, long, Path, String, BeforePublish)}, with {@code staged} run outside the lock. */
    InstallResult install(String model, long version, Path upload, String sha256Hex, Staged staged,
                          BeforePublish beforePublish) throws ArtifactException {
        Objects.requireNonNull(upload, "upload");
        Objects.requireNonNull(staged, "staged");
        Objects.requireNonNull(beforePublish, "beforePublish");
        if (sha256Hex == null || !SHA256.matcher(sha256Hex).matches()) {
            throw new IllegalArgumentException("sha256Hex must be 64 hex digits, was " + sha256Hex);
        }
        String digest = sha256Hex.toLowerCase(Locale.ROOT);
        try {
            checkName(model, version);
            long size = size(upload);
            if (size > limits.maxUploadBytes()) {
                throw new ArtifactException(Reason.TOO_LARGE, "upload is " + size + " bytes; the limit is "
                        + limits.maxUploadBytes());
            }
            Path modelDirectory = root.resolve(model);
            Path versionDirectory = modelDirectory.resolve(Long.toString(version));
            Optional<InstallResult> existing = existing(model, version, versionDirectory, digest, size);
            if (existing.isPresent()) {
                return existing.get();
            }
            return create(model, version, modelDirectory, versionDirectory, upload, size, digest, staged,
                    beforePublish);
        } catch (IOException e) {
            throw new ArtifactException(Reason.IO, "cannot install " + model + " version " + version + ": " + e, e);
        } finally {
            deleteQuietly(upload);
        }
    }

    private InstallResult create(String model, long version, Path modelDirectory, Path versionDirectory,
                                 Path upload, long size, String digest, Staged staged,
                                 BeforePublish beforePublish) throws ArtifactException, IOException {
        boolean newModel = !Files.isDirectory(modelDirectory);
        Files.createDirectories(modelDirectory);
        if (newModel) {
            Durable.sync(root);
        }
        Path incoming = modelDirectory.resolve(
                INCOMING_PREFIX + version + "-" + HexFormat.of().toHexDigits(RANDOM.nextLong()));
        Files.createDirectory(incoming);
        try {
            fill(incoming, upload, size);
            Contents contents = Contents.read(incoming);
            Durable.syncDirectories(incoming);
            writeSidecar(incoming, digest);
            staged.ready(incoming);
            checkpoint.reached("ready");
            synchronized (renameLock) {
                Optional<InstallResult> existing = existing(model, version, versionDirectory, digest, size);
                if (existing.isPresent()) {
                    deleteQuietly(incoming);
                    return existing.get();
                }
                beforePublish.prepared(new InstallResult(Outcome.CREATED, digest, size, contents.files(),
                        contents.card(), contents.config()), incoming);
                checkpoint.reached("before rename");
                rename(incoming, versionDirectory, model, version, digest, size);
            }
            Durable.sync(modelDirectory);
            LOG.info("Installed {} version {} ({} bytes, sha256 {}): {}", model, version, size, digest,
                    contents.files());
            return new InstallResult(Outcome.CREATED, digest, size, contents.files(), contents.card(),
                    contents.config());
        } catch (ArtifactException | IOException | RuntimeException e) {
            // an Error, like a crash, leaves the leftovers to cleanStaging()
            deleteQuietly(incoming);
            if (newModel) {
                deleteEmptyQuietly(modelDirectory);
            }
            throw e;
        }
    }

    /** Puts the upload's contents into {@code incoming}: the ONNX file itself, or the bundle's files. */
    private void fill(Path incoming, Path upload, long size) throws ArtifactException, IOException {
        ArtifactKind kind = ArtifactKind.detect(upload);
        if (kind == ArtifactKind.ONNX) {
            ArtifactKind.checkOnnx(upload, "upload");
            Path modelFile = incoming.resolve(MODEL_FILE);
            Files.move(upload, modelFile);
            Durable.sync(modelFile);
            checkpoint.reached("extracted " + MODEL_FILE);
            return;
        }
        BundleExtractor.extract(kind, upload, size, incoming, limits, checkpoint);
        stripTopDirectory(incoming);
        ArtifactKind.checkOnnx(incoming.resolve(MODEL_FILE), "bundle's " + MODEL_FILE);
    }

    /** Accepts model.onnx at the bundle's root, or inside a single top-level directory, which is stripped. */
    private static void stripTopDirectory(Path incoming) throws ArtifactException, IOException {
        if (Files.isRegularFile(incoming.resolve(MODEL_FILE), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> top = list(incoming);
        if (top.size() != 1 || !Files.isDirectory(top.get(0), LinkOption.NOFOLLOW_LINKS)
                || !Files.isRegularFile(top.get(0).resolve(MODEL_FILE), LinkOption.NOFOLLOW_LINKS)) {
            throw new ArtifactException(Reason.INVALID, "bundle has no " + MODEL_FILE
                    + " at its root or inside a single top-level directory");
        }
        // hidden, so it cannot clash with an entry (hidden entries were skipped)
        Path holder = Files.move(top.get(0), incoming.resolve(".strip"));
        for (Path child : list(holder)) {
            Files.move(child, incoming.resolve(child.getFileName().toString()));
        }
        Files.delete(holder);
    }

    private static void writeSidecar(Path incoming, String digest) throws IOException {
        Path sidecar = incoming.resolve(SIDECAR);
        try (FileChannel out = FileChannel.open(sidecar, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(StandardCharsets.US_ASCII.encode(digest + "\n"));
            out.force(true);
        }
        Durable.sync(incoming);
    }

    private static void rename(Path incoming, Path versionDirectory, String model, long version, String digest,
                               long size) throws ArtifactException, IOException {
        try {
            Files.move(incoming, versionDirectory, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw e;
        } catch (FileAlreadyExistsException e) {
            throw lostRace(model, version, digest, e);
        } catch (FileSystemException e) {
            if (Files.exists(versionDirectory, LinkOption.NOFOLLOW_LINKS)) {
                throw lostRace(model, version, digest, e);
            }
            throw e;
        }
    }

    private static ArtifactException lostRace(String model, long version, String digest, Exception e) {
        return new ArtifactException(Reason.CONFLICT, "version " + model + "/" + version
                + " was created by another upload while this one (sha256 " + digest + ") was being installed", e);
    }

    /** The result for an existing version with the same digest; a CONFLICT for one with another or none. */
    private static Optional<InstallResult> existing(String model, long version, Path versionDirectory,
                                                    String digest, long size) throws ArtifactException, IOException {
        if (!Files.exists(versionDirectory, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Optional<String> recorded = readSidecar(versionDirectory);
        if (recorded.isEmpty()) {
            throw new ArtifactException(Reason.CONFLICT, "version " + model + "/" + version
                    + " already exists and has no recorded digest (it was not installed by upload); the upload's"
                    + " sha256 is " + digest + "; versions are immutable: upload a new version");
        }
        if (!recorded.get().equals(digest)) {
            throw new ArtifactException(Reason.CONFLICT, "version " + model + "/" + version
                    + " already exists with sha256 " + recorded.get() + "; the upload's sha256 is " + digest
                    + "; versions are immutable: upload a new version");
        }
        Contents contents = Contents.read(versionDirectory);
        return Optional.of(new InstallResult(Outcome.IDENTICAL, digest, size, contents.files(), contents.card(),
                contents.config()));
    }

    @Override
    public List<Path> cleanStaging() {
        List<Path> deleted = new ArrayList<>();
        for (Path leftover : listQuietly(staging)) {
            deleteLogged(leftover, deleted);
        }
        for (Path modelDirectory : listQuietly(root)) {
            if (!Files.isDirectory(modelDirectory, LinkOption.NOFOLLOW_LINKS)
                    || modelDirectory.equals(staging)) {
                continue;
            }
            for (Path child : listQuietly(modelDirectory)) {
                if (child.getFileName().toString().startsWith(INCOMING_PREFIX)) {
                    deleteLogged(child, deleted);
                }
            }
        }
        return List.copyOf(deleted);
    }

    @Override
    public Availability fetch(String model, long version, String expectedSha256) {
        if (!validTarget(model, version)) {
            return Availability.MISSING;
        }
        return Files.isDirectory(root.resolve(model).resolve(Long.toString(version)), LinkOption.NOFOLLOW_LINKS)
                ? Availability.LOCAL : Availability.MISSING;
    }

    @Override
    public String location() {
        return root.toString();
    }

    /** Whether {@code model}/{@code version} is a valid target (the scanner's rules). */
    static boolean validTarget(String model, long version) {
        return model != null && MODEL_NAME.matcher(model).matches() && version >= 1 && version <= MAX_VERSION;
    }

    @Override
    public Optional<String> digest(String model, long version) {
        if (!validTarget(model, version)) {
            return Optional.empty();
        }
        try {
            return readSidecar(root.resolve(model).resolve(Long.toString(version)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the digest of " + model + " version " + version, e);
        }
    }

    private static Optional<String> readSidecar(Path versionDirectory) throws IOException {
        Path sidecar = versionDirectory.resolve(SIDECAR);
        if (!Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        String text = Files.readString(sidecar, StandardCharsets.US_ASCII).strip().toLowerCase(Locale.ROOT);
        return SHA256.matcher(text).matches() ? Optional.of(text) : Optional.empty();
    }

    private static void checkName(String model, long version) throws ArtifactException {
        if (model == null || !MODEL_NAME.matcher(model).matches()) {
            throw new ArtifactException(Reason.INVALID, "model name '" + model + "' is not valid: use letters,"
                    + " digits, '_', '.', '-', starting with a letter or digit, at most 128 characters");
        }
        if (version < 1 || version > MAX_VERSION) {
            throw new ArtifactException(Reason.INVALID, "version " + version
                    + " is not valid: use a positive integer of at most 18 digits");
        }
    }

    private static long size(Path upload) throws IOException {
        if (!Files.isRegularFile(upload, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("upload " + upload + " is not a regular file");
        }
        return Files.size(upload);
    }

    private static List<Path> list(Path directory) throws IOException {
        try (Stream<Path> children = Files.list(directory)) {
            return children.sorted().toList();
        }
    }

    private static List<Path> listQuietly(Path directory) {
        try {
            return list(directory);
        } catch (IOException e) {
            LOG.warn("Cannot list {} to clean up interrupted uploads: {}", directory, e.toString());
            return List.of();
        }
    }

    private static void deleteLogged(Path leftover, List<Path> deleted) {
        try {
            Durable.deleteTree(leftover);
            deleted.add(leftover);
            LOG.info("Deleted {}, left by an interrupted upload", leftover);
        } catch (IOException e) {
            LOG.warn("Cannot delete {}, left by an interrupted upload: {}", leftover, e.toString());
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Durable.deleteTree(path);
        } catch (IOException e) {
            LOG.warn("Cannot delete {}: {}", path, e.toString());
        }
    }

    private static void deleteEmptyQuietly(Path directory) {
        try {
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            // not empty: someone else is using it
        }
    }

    /** A version directory's listing, and its card and configuration as text. */
    private record Contents(List<String> files, Optional<String> card, Optional<String> config) {

        static Contents read(Path directory) throws ArtifactException, IOException {
            List<String> files;
            try (Stream<Path> walk = Files.walk(directory)) {
                files = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                        .map(p -> directory.relativize(p).toString().replace('\\', '/'))
                        .filter(name -> !name.startsWith("."))
                        .sorted()
                        .toList();
            }
            return new Contents(files, json(directory, CARD_FILE), json(directory, CONFIG_FILE));
        }

        private static Optional<String> json(Path directory, String name) throws ArtifactException, IOException {
            Path file = directory.resolve(name);
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            if (Files.size(file) > MAX_JSON_BYTES) {
                throw new ArtifactException(Reason.INVALID, "bundle's " + name + " is larger than "
                        + MAX_JSON_BYTES + " bytes");
            }
            try {
                String text = Files.readString(file, StandardCharsets.UTF_8);
                JsonNode node = JSON.readTree(text);
                if (node == null || !node.isObject()) {
                    throw new ArtifactException(Reason.INVALID, "bundle's " + name + " is not a JSON object");
                }
                return Optional.of(text);
            } catch (JsonProcessingException e) {
                throw new ArtifactException(Reason.INVALID, "bundle's " + name + " is not valid JSON: "
                        + e.getOriginalMessage());
            } catch (CharacterCodingException e) {
                throw new ArtifactException(Reason.INVALID, "bundle's " + name + " is not UTF-8 text");
            }
        }
    }
}
