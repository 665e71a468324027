package dev.gantry.http;

import dev.gantry.store.artifact.S3Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --artifacts} and its {@code --s3-*} options; the key pair comes from a file or the environment only. */
class SharedArtifactsConfigTest {
    @TempDir
    Path dir;

    @Test
    void byDefault_artifactsStayInTheModelsDirectory() throws Exception {
        assertEquals(Optional.empty(), ServerConfigParser.parse(List.of(), Map.of()).sharedArtifacts());
    }

    @Test
    void s3Location_withEndpointPathStyleAndEnvironmentCredentials_isParsed() throws Exception {
        ServerConfig config = ServerConfigParser.parse(List.of("--artifacts", "s3://models-bucket/gantry/prod/",
                        "--s3-endpoint", "http://minio:9000", "--s3-region", "eu-west-1", "--s3-path-style", "true"),
                Map.of("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY", "very-secret"));

        S3Settings s3 = config.sharedArtifacts().orElseThrow();
        assertEquals("models-bucket", s3.bucket());
        assertEquals("gantry/prod", s3.prefix());
        assertEquals(Optional.of(URI.create("http://minio:9000")), s3.endpoint());
        assertEquals("eu-west-1", s3.region());
        assertTrue(s3.pathStyle());
        assertEquals(Optional.of(new S3Settings.Credentials("AKIDEXAMPLE", "very-secret")), s3.credentials());
        assertFalse(s3.toString().contains("very-secret"), s3.toString());
    }

    @Test
    void credentialsFile_winsOverTheEnvironment() throws Exception {
        Path file = Files.writeString(dir.resolve("s3.properties"),
                "access_key_id = FROMFILE\nsecret_access_key = file-secret\n");

        ServerConfig config = ServerConfigParser.parse(List.of("--artifacts", "s3://models-bucket",
                        "--s3-credentials-file", file.toString()),
                Map.of("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY", "very-secret"));

        assertEquals(Optional.of(new S3Settings.Credentials("FROMFILE", "file-secret")),
                config.sharedArtifacts().orElseThrow().credentials());
    }

    @Test
    void withoutAKeyPair_theSdkDefaultChainIsUsed() throws Exception {
        ServerConfig config = ServerConfigParser.parse(List.of("--artifacts", "s3://models-bucket"), Map.of());

        assertEquals(Optional.empty(), config.sharedArtifacts().orElseThrow().credentials());
    }

    @Test
    void aSecretOnTheCommandLine_isNotAnOption() {
        ServerConfigParser.ConfigException e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--artifacts", "s3://models-bucket",
                        "--s3-secret-access-key", "very-secret"), Map.of()));

        assertTrue(e.getMessage().startsWith("unknown option '--s3-secret-access-key'"), e.getMessage());
    }

    @Test
    void badLocationsAndHalfAKeyPair_areRefusedNamingTheProblem() {
        assertEquals("--artifacts: 'ftp://bucket' is not an S3 location like s3://bucket/prefix",
                assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                        List.of("--artifacts", "ftp://bucket"), Map.of())).getMessage());
        assertEquals("--s3-endpoint must be an http(s) URL like http://minio:9000, was 'minio:9000'",
                assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                        List.of("--artifacts", "s3://bucket", "--s3-endpoint", "minio:9000"), Map.of()))
                        .getMessage());
        assertEquals("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together; only AWS_ACCESS_KEY_ID is set",
                assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                        List.of("--artifacts", "s3://bucket"), Map.of("AWS_ACCESS_KEY_ID", "AKID"))).getMessage());
    }
}
