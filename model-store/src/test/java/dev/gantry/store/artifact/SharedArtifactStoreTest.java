package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.ArtifactStore.Availability;
import dev.gantry.store.artifact.Uploads.Staged;
import dev.gantry.store.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The S3-backed store as two replicas see it: each has its own local repository (its cache), both share one
 * bucket prefix; a real S3-protocol server (s3proxy, filesystem backend) in this JVM.
 */
class SharedArtifactStoreTest {
    @TempDir
    static Path bucketDir;
    @TempDir
    Path replica1;
    @TempDir
    Path replica2;
    private static S3Server s3;
    private static int prefixes;
    private String prefix;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Server.start(bucketDir.resolve("s3"));
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    private ArtifactStore replica(Path root) {
        return replica(root, s3.settings(prefix));
    }

    private ArtifactStore replica(Path root, S3Settings settings) {
        return ArtifactStore.shared(root, ArtifactLimits.defaults(), settings);
    }

    @org.junit.jupiter.api.BeforeEach
    void newPrefix() {
        prefix = "shared-" + (++prefixes);
    }

    private String key(String model, long version) {
        return prefix + "/" + SharedArtifactStore.key(model, version);
    }

    @Test
    void install_writesTheArtifactAsReceivedToTheBucketWithItsDigest() throws Exception {
        byte[] model = Uploads.onnx(1, 4096);
        try (ArtifactStore store = replica(replica1); S3Client raw = s3.rawClient()) {
            Staged upload = Uploads.stage(store, model);

            store.install("iris", 1, upload.file(), upload.sha256());

            HeadObjectResponse head = raw.headObject(HeadObjectRequest.builder().bucket(S3Server.BUCKET)
                    .key(key("iris", 1)).build());
            assertEquals(Map.of("sha256", upload.sha256()), head.metadata());
            assertArrayEquals(model, raw.getObject(GetObjectRequest.builder().bucket(S3Server.BUCKET)
                    .key(key("iris", 1)).build(), ResponseTransformer.toBytes()).asByteArray());
        }
    }

    @Test
    void fetch_intoAnEmptyCache_installsTheVersionFromTheBucket() throws Exception {
        byte[] model = Uploads.onnx(3, 10_000);
        try (ArtifactStore first = replica(replica1); ArtifactStore second = replica(replica2)) {
            Staged upload = Uploads.stage(first, model);
            first.install("iris", 2, upload.file(), upload.sha256());
            assertFalse(Files.exists(replica2.resolve("iris")));

            assertEquals(Availability.FETCHED, second.fetch("iris", 2, "sha256:" + upload.sha256()));

            assertArrayEquals(model, Files.readAllBytes(replica2.resolve("iris/2/model.onnx")));
            assertEquals(List.of(2L), ModelRepository.onDisk(replica2).find("iris").orElseThrow().versions().stream()
                    .map(v -> v.version()).toList());
            assertEquals(java.util.Optional.of(upload.sha256()), second.digest("iris", 2));
            assertEquals(Availability.LOCAL, second.fetch("iris", 2, upload.sha256()));
        }
    }

    @Test
    void fetch_ofAVersionTheBucketDoesNotHold_isMissing() throws Exception {
        try (ArtifactStore store = replica(replica1)) {
            assertEquals(Availability.MISSING, store.fetch("iris", 9, Uploads.sha256(new byte[] {1})));
        }
    }

    @Test
    void fetch_ofATamperedObject_isRefusedAsCorruptAndInstallsNothing() throws Exception {
        byte[] model = Uploads.onnx(4, 5000);
        try (ArtifactStore first = replica(replica1); ArtifactStore second = replica(replica2);
             S3Client raw = s3.rawClient()) {
            Staged upload = Uploads.stage(first, model);
            first.install("iris", 1, upload.file(), upload.sha256());
            byte[] tampered = model.clone();
            tampered[100] ^= 1;
            // bytes replaced behind Gantry's back, the recorded digest left as it was
            raw.putObject(PutObjectRequest.builder().bucket(S3Server.BUCKET).key(key("iris", 1))
                    .metadata(Map.of("sha256", upload.sha256())).build(), RequestBody.fromBytes(tampered));

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> second.fetch("iris", 1, upload.sha256()));

            assertEquals(Reason.CORRUPT, e.reason());
            assertTrue(e.getMessage().contains("has sha256 " + Uploads.sha256(tampered)
                    + " but the catalogue registered " + upload.sha256()), e.getMessage());
            assertFalse(Files.exists(replica2.resolve("iris/1")));
            assertEquals(List.of(), Files.list(second.stagingDirectory()).toList());
        }
    }

    @Test
    void fetch_ofAnObjectReplacedWithItsDigest_isRefusedByTheCataloguesDigest() throws Exception {
        byte[] model = Uploads.onnx(5, 5000);
        byte[] other = Uploads.onnx(6, 5000);
        try (ArtifactStore first = replica(replica1); ArtifactStore second = replica(replica2);
             S3Client raw = s3.rawClient()) {
            Staged upload = Uploads.stage(first, model);
            first.install("iris", 1, upload.file(), upload.sha256());
            raw.putObject(PutObjectRequest.builder().bucket(S3Server.BUCKET).key(key("iris", 1))
                    .metadata(Map.of("sha256", Uploads.sha256(other))).build(), RequestBody.fromBytes(other));

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> second.fetch("iris", 1, upload.sha256()));

            assertEquals(Reason.CORRUPT, e.reason());
            assertFalse(Files.exists(replica2.resolve("iris/1")));
        }
    }

    @Test
    void install_otherBytesForAVersionAnotherReplicaWrote_isRefusedAndTheObjectKeepsItsBytes() throws Exception {
        byte[] model = Uploads.onnx(7, 3000);
        try (ArtifactStore first = replica(replica1); ArtifactStore second = replica(replica2);
             S3Client raw = s3.rawClient()) {
            Staged upload = Uploads.stage(first, model);
            first.install("iris", 1, upload.file(), upload.sha256());
            Staged other = Uploads.stage(second, Uploads.onnx(8, 3000));

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> second.install("iris", 1, other.file(), other.sha256()));

            assertEquals(Reason.CONFLICT, e.reason());
            assertTrue(e.getMessage().contains("s3://" + S3Server.BUCKET + "/" + key("iris", 1)), e.getMessage());
            assertFalse(Files.exists(replica2.resolve("iris/1")));
            assertArrayEquals(model, raw.getObject(GetObjectRequest.builder().bucket(S3Server.BUCKET)
                    .key(key("iris", 1)).build(), ResponseTransformer.toBytes()).asByteArray());
        }
    }

    @Test
    void install_sameBytesAnotherReplicaWrote_createsTheLocalVersion() throws Exception {
        byte[] model = Uploads.onnx(9, 3000);
        try (ArtifactStore first = replica(replica1); ArtifactStore second = replica(replica2)) {
            Staged upload = Uploads.stage(first, model);
            first.install("iris", 1, upload.file(), upload.sha256());
            Staged same = Uploads.stage(second, model);

            assertEquals(InstallResult.Outcome.CREATED,
                    second.install("iris", 1, same.file(), same.sha256()).outcome());
            assertArrayEquals(model, Files.readAllBytes(replica2.resolve("iris/1/model.onnx")));
        }
    }

    @Test
    void install_largerThanOnePart_goesUpInPartsAndFetchesBackIntact() throws Exception {
        int size = 12 << 20; // three 5 MiB parts, the last one short
        S3Settings settings = s3.settings(prefix).withPartSizeBytes(S3Settings.MIN_PART_BYTES);
        try (ArtifactStore first = replica(replica1, settings); ArtifactStore second = replica(replica2, settings);
             S3Client raw = s3.rawClient()) {
            Path file = Files.createTempFile(first.stagingDirectory(), "upload-", ".part");
            byte[] model = Uploads.onnx(10, size);
            Files.write(file, model);
            String sha = Uploads.sha256(model);

            first.install("big", 1, file, sha);

            HeadObjectResponse head = raw.headObject(HeadObjectRequest.builder().bucket(S3Server.BUCKET)
                    .key(key("big", 1)).build());
            assertEquals(size, head.contentLength());
            assertTrue(head.eTag().endsWith("-3\""), "multipart ETag names its 3 parts: " + head.eTag());
            assertEquals(Availability.FETCHED, second.fetch("big", 1, sha));
            assertEquals(sha, dev.gantry.store.digest.Sha256.hex(replica2.resolve("big/1/model.onnx")));
        }
    }
}
