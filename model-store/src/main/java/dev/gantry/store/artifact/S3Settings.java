package dev.gantry.store.artifact;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the shared artifact store is and how to reach it.
 *
 * @param bucket         the bucket
 * @param prefix         the key prefix every object goes under, without leading or trailing '/' (may be empty)
 * @param endpoint       an S3-compatible endpoint (MinIO, s3proxy, Ceph); empty for AWS's own
 * @param region         the signing region
 * @param pathStyle      address the bucket as {@code endpoint/bucket/key} rather than {@code bucket.endpoint/key}
 * @param credentials    the access key pair; empty for the SDK's default chain (environment, profile, web
 *                       identity, instance role)
 * @param partSizeBytes  files larger than this are uploaded in parts of this size (at least 5 MiB, S3's minimum)
 */
public record S3Settings(String bucket, String prefix, Optional<URI> endpoint, String region, boolean pathStyle,
                         Optional<Credentials> credentials, long partSizeBytes) {
    /** S3's smallest part (all but the last). */
    public static final long MIN_PART_BYTES = 5L << 20;
    /** 16 MiB parts: a 2 GiB upload is 128 parts, well under S3's 10,000. */
    public static final long DEFAULT_PART_BYTES = 16L << 20;
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** An access key pair; its {@code toString} never shows the secret. */
    public record Credentials(String accessKeyId, String secretAccessKey) {
        public Credentials {
            if (accessKeyId == null || accessKeyId.isBlank()) {
                throw new IllegalArgumentException("the S3 access key id is empty");
            }
            if (secretAccessKey == null || secretAccessKey.isBlank()) {
                throw new IllegalArgumentException("the S3 secret access key is empty");
            }
        }

        @Override
        public String toString() {
            return "Credentials[accessKeyId=" + accessKeyId + ", secretAccessKey=(hidden)]";
        }
    }

    public S3Settings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(credentials, "credentials");
        if (bucket == null || !BUCKET.matcher(bucket).matches()) {
            throw new IllegalArgumentException("S3 bucket name '" + bucket + "' is not valid: 3-63 lowercase letters,"
                    + " digits, '.' or '-', starting and ending with a letter or digit");
        }
        prefix = prefix == null ? "" : strip(prefix);
        if (region == null || region.isBlank()) {
            throw new IllegalArgumentException("the S3 region is empty");
        }
        if (partSizeBytes < MIN_PART_BYTES) {
            throw new IllegalArgumentException("partSizeBytes must be >= " + MIN_PART_BYTES + " (S3's smallest part),"
                    + " was " + partSizeBytes);
        }
    }

    /**
     * Settings for {@code s3://bucket[/prefix]} with AWS's endpoint, region us-east-1, virtual-host addressing and
     * the SDK's default credentials; the {@code with*} methods change them.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code location}
     */
    public static S3Settings parse(String location) {
        if (location == null || !location.startsWith("s3://")) {
            throw new IllegalArgumentException("'" + location + "' is not an S3 location like s3://bucket/prefix");
        }
        String rest = location.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        return new S3Settings(bucket, prefix, Optional.empty(), "us-east-1", false, Optional.empty(),
                DEFAULT_PART_BYTES);
    }

    public S3Settings withEndpoint(URI uri) {
        return new S3Settings(bucket, prefix, Optional.of(uri), region, pathStyle, credentials, partSizeBytes);
    }

    public S3Settings withRegion(String r) {
        return new S3Settings(bucket, prefix, endpoint, r, pathStyle, credentials, partSizeBytes);
    }

    public S3Settings withPathStyle(boolean p) {
        return new S3Settings(bucket, prefix, endpoint, region, p, credentials, partSizeBytes);
    }

    public S3Settings withCredentials(Credentials c) {
        return new S3Settings(bucket, prefix, endpoint, region, pathStyle, Optional.of(c), partSizeBytes);
    }

    public S3Settings withPartSizeBytes(long n) {
        return new S3Settings(bucket, prefix, endpoint, region, pathStyle, credentials, n);
    }

    private static String strip(String p) {
        String s = p;
        while (s.startsWith("/")) {
            s = s.substring(1);
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }
}
