package dev.gantry.http;

import dev.gantry.http.ServerConfigParser.ConfigException;
import dev.gantry.store.artifact.S3Settings;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Reads {@code --artifacts s3://bucket/prefix} and its {@code --s3-*} options. The key pair never comes from the
 * command line: from {@code --s3-credentials-file}, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else the AWS
 * SDK's default chain (web identity, instance role, profile).
 */
final class SharedArtifactsConfig {
    private SharedArtifactsConfig() {
    }

    static Optional<S3Settings> parse(String artifacts, String endpoint, String region, boolean pathStyle,
                                      Optional<Path> credentialsFile, Map<String, String> env)
            throws ConfigException {
        String location = artifacts == null ? "" : artifacts.strip();
        if (location.isEmpty() || location.equals("local")) {
            return Optional.empty();
        }
        try {
            S3Settings s = S3Settings.parse(location).withRegion(region.strip()).withPathStyle(pathStyle);
            if (!endpoint.isBlank()) {
                s = s.withEndpoint(endpoint(endpoint.strip()));
            }
            Optional<S3Settings.Credentials> credentials = credentialsFile.isPresent()
                    ? Optional.of(fromFile(credentialsFile.get())) : fromEnvironment(env);
            return Optional.of(credentials.map(s::withCredentials).orElse(s));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--artifacts: " + e.getMessage());
        }
    }

    private static URI endpoint(String raw) throws ConfigException {
        try {
            URI uri = new URI(raw);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new ConfigException("--s3-endpoint must be an http(s) URL like http://minio:9000, was '" + raw
                        + "'");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ConfigException("--s3-endpoint is not a URL: '" + raw + "'");
        }
    }

    /** A properties file with access_key_id and secret_access_key (aws_-prefixed names accepted too). */
    static S3Settings.Credentials fromFile(Path file) throws ConfigException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new ConfigException("--s3-credentials-file " + file + " cannot be read: " + e.getMessage());
        }
        String id = first(p, "access_key_id", "aws_access_key_id");
        String secret = first(p, "secret_access_key", "aws_secret_access_key");
        if (id == null || secret == null) {
            throw new ConfigException("--s3-credentials-file " + file + " must set access_key_id and"
                    + " secret_access_key");
        }
        return new S3Settings.Credentials(id, secret);
    }

    private static Optional<S3Settings.Credentials> fromEnvironment(Map<String, String> env) throws ConfigException {
        String id = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        boolean hasId = id != null && !id.isBlank();
        boolean hasSecret = secret != null && !secret.isBlank();
        if (hasId != hasSecret) {
            throw new ConfigException("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together; only "
                    + (hasId ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set");
        }
        return hasId ? Optional.of(new S3Settings.Credentials(id.strip(), secret.strip())) : Optional.empty();
    }

    private static String first(Properties p, String... names) {
        for (String n : names) {
            String v = p.getProperty(n);
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }
}
