package dev.gantry.http.governance;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.S3Server;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.artifact.S3Settings;
import dev.gantry.store.digest.Sha256;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import com.fasterxml.jackson.databind.JsonNode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Servers started with {@code --artifacts s3://...} (s3proxy in this JVM): an upload over HTTP lands in the
 * bucket; a server whose local repository lost the version fetches it back at start and serves it; a second
 * server on the same bucket cannot put other bytes under a version the first one wrote; a tampered object is
 * refused, audited, and never installed or loaded. (Each server keeps its own
 * H2 catalogue here; the PostgreSQL catalogue that replicas share is tested with it.)
 */
class SharedArtifactsHttpTest {
    private static final String MODEL = "shared";

    @TempDir
    static Path bucketDir;
    @TempDir
    Path dir;
    private static S3Server s3;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Server.start(bucketDir.resolve("s3"));
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    private ServerConfig config(String replica, S3Settings settings) throws java.io.IOException {
        Path models = dir.resolve(replica).resolve("models");
        if (!models.resolve(MODEL).toFile().exists()) {
            new TempRepository(models).copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        }
        return ServerFixture.config(models, dir.resolve(replica).resolve("data"))
                .withSharedArtifacts(Optional.of(settings));
    }

    @Test
    void upload_landsInTheBucket_andAReplicaThatLostItsFiles_fetchesAndServesItAtStart() throws Exception {
        S3Settings settings = s3.settings("upload-and-fetch");
        byte[] artifact = GovernanceApi.bundled("classifier");
        String sha = Sha256.hex(artifact);
        ServerConfig config = config("replica-1", settings);
        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            HttpResponse<String> upload = api.upload(null, MODEL, 2, artifact);
            assertEquals(201, upload.statusCode(), upload.body());
            api.awaitStage(null, MODEL, 2, Set.of("VALIDATED"));
        }
        try (S3Client raw = s3.rawClient()) {
            HeadObjectResponse head = raw.headObject(HeadObjectRequest.builder().bucket(S3Server.BUCKET)
                    .key("upload-and-fetch/" + MODEL + "/2/artifact").build());
            assertEquals(Map.of("sha256", sha), head.metadata());
            assertEquals(artifact.length, head.contentLength());
        }

        // The container is replaced: the catalogue (data volume) survives, the local repository's copy does not.
        deleteTree(config.modelsDir().resolve(MODEL).resolve("2"));

        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            assertEquals(200, server.get("/v2/models/" + MODEL + "/versions/2/ready").statusCode());
            assertEquals(sha, Sha256.hex(config.modelsDir().resolve(MODEL).resolve("2").resolve("model.onnx")));
        }
    }

    @Test
    void upload_ofOtherBytesForAVersionAnotherServerWrote_is409() throws Exception {
        S3Settings settings = s3.settings("two-servers");
        try (ServerFixture first = ServerFixture.start(config("replica-1", settings), ExecutorFactory.onnxRuntime());
             ServerFixture second = ServerFixture.start(config("replica-2", settings),
                     ExecutorFactory.onnxRuntime())) {
            HttpResponse<String> written = new GovernanceApi(first.server().port())
                    .upload(null, MODEL, 2, GovernanceApi.bundled("classifier"));
            assertEquals(201, written.statusCode(), written.body());

            HttpResponse<String> other = new GovernanceApi(second.server().port())
                    .upload(null, MODEL, 2, GovernanceApi.bundled("mlp"));

            assertEquals(409, other.statusCode(), other.body());
            assertTrue(other.body().contains("s3://" + S3Server.BUCKET + "/two-servers/" + MODEL + "/2/artifact"),
                    other.body());
        }
    }

    @Test
    void aTamperedObject_isNotInstalledOrLoaded_itsLoadIs409NamingWhy_andTheRefusalIsAudited() throws Exception {
        S3Settings settings = s3.settings("tampered");
        byte[] artifact = GovernanceApi.bundled("classifier");
        ServerConfig config = config("replica-1", settings);
        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            assertEquals(201, api.upload(null, MODEL, 2, artifact).statusCode());
            api.awaitStage(null, MODEL, 2, Set.of("VALIDATED"));
        }
        byte[] tampered = artifact.clone();
        tampered[tampered.length / 2] ^= 1;
        try (S3Client raw = s3.rawClient()) {
            // the bytes replaced behind Gantry's back, the recorded digest left as it was
            raw.putObject(PutObjectRequest.builder().bucket(S3Server.BUCKET).key("tampered/" + MODEL + "/2/artifact")
                    .metadata(Map.of("sha256", Sha256.hex(artifact))).build(), RequestBody.fromBytes(tampered));
        }
        deleteTree(config.modelsDir().resolve(MODEL).resolve("2"));

        try (ServerFixture server = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            GovernanceApi api = new GovernanceApi(server.server().port());
            HttpResponse<String> load = api.post(null, "/admin/v1/models/" + MODEL + "/versions/2/load", "{}");

            assertEquals(409, load.statusCode(), load.body());
            assertTrue(load.body().contains("has sha256 " + Sha256.hex(tampered) + " but the catalogue registered "
                    + Sha256.hex(artifact)), load.body());
            assertFalse(Files.exists(config.modelsDir().resolve(MODEL).resolve("2")));
            JsonNode audit = GovernanceApi.ok(api.get(null, "/admin/v1/audit?model=" + MODEL + "&version=2"));
            List<String> refused = new ArrayList<>();
            audit.path("entries").forEach(e -> {
                if (e.path("action").asText().equals("version.fetch_refused")) {
                    refused.add(e.path("after").asText());
                }
            });
            assertEquals(1, refused.size(), audit.toString());
            assertTrue(refused.get(0).contains(Sha256.hex(tampered)), refused.get(0));
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
