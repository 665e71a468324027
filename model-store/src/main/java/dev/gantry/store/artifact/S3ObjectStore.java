package dev.gantry.store.artifact;

import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/** An {@link ObjectStore} in an S3 bucket (AWS, or any S3-compatible server), through the AWS SDK for Java v2. */
final class S3ObjectStore implements ObjectStore {
    /*
     * Immutability. Every write carries If-None-Match: * (PutObject, and CompleteMultipartUpload for large files):
     * AWS S3, MinIO and Ceph refuse it with 412 when the key exists, so two writers racing for one key cannot both
     * win. Servers that ignore the header (s3proxy 2.6 does) would overwrite, so the caller checks with a HEAD first
     * and again after writing (SharedArtifactStore); the catalogue's unique (model, version) is the last line.
     *
     * Checksums: the SDK's default CRC trailers (aws-chunked) are switched to "when required", because not every
     * S3-compatible server understands them; the SHA-256 that matters is ours, kept in the object's metadata and
     * checked on every fetch.
     */
    private static final Logger LOG = LoggerFactory.getLogger(S3ObjectStore.class);
    /** The user metadata key (x-amz-meta-sha256) holding the artifact's SHA-256, lowercase hex. */
    static final String SHA256_METADATA = "sha256";

    private final S3Client s3;
    private final S3Settings settings;

    private S3ObjectStore(S3Client s3, S3Settings settings) {
        this.s3 = s3;
        this.settings = settings;
    }

    static S3ObjectStore open(S3Settings settings) {
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)))
                .region(Region.of(settings.region()))
                .forcePathStyle(settings.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(credentials(settings));
        settings.endpoint().ifPresent(builder::endpointOverride);
        return new S3ObjectStore(builder.build(), settings);
    }

    private static AwsCredentialsProvider credentials(S3Settings settings) {
        return settings.credentials()
                .<AwsCredentialsProvider>map(c -> StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())))
                .orElseGet(() -> DefaultCredentialsProvider.builder().build());
    }

    private String fullKey(String key) {
        return settings.prefix().isEmpty() ? key : settings.prefix() + "/" + key;
    }

    @Override
    public String describe(String key) {
        return "s3://" + settings.bucket() + "/" + fullKey(key);
    }

    @Override
    public Optional<StoredObject> head(String key) throws IOException {
        try {
            HeadObjectResponse r = s3.headObject(HeadObjectRequest.builder().bucket(settings.bucket())
                    .key(fullKey(key)).build());
            String sha = r.metadata().get(SHA256_METADATA);
            return Optional.of(new StoredObject(r.contentLength() == null ? -1 : r.contentLength(),
                    Optional.ofNullable(sha).map(s -> s.strip().toLowerCase(Locale.ROOT))));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("look up", key, e);
        } catch (SdkException e) {
            throw failure("look up", key, e);
        }
    }

    @Override
    public boolean putIfAbsent(String key, Path file, String sha256) throws IOException {
        long size = Files.size(file);
        try {
            if (size <= settings.partSizeBytes()) {
                s3.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(fullKey(key))
                        .ifNoneMatch("*").contentLength(size).metadata(Map.of(SHA256_METADATA, sha256))
                        .build(), RequestBody.fromFile(file));
            } else {
                putInParts(key, file, size, sha256);
            }
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 409) {
                return false;
            }
            throw failure("write", key, e);
        } catch (SdkException e) {
            throw failure("write", key, e);
        }
    }

    private void putInParts(String key, Path file, long size, String sha256) {
        String uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(settings.bucket())
                .key(fullKey(key)).metadata(Map.of(SHA256_METADATA, sha256)).build()).uploadId();
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long part = settings.partSizeBytes();
            int number = 1;
            for (long offset = 0; offset < size; offset += part, number++) {
                long length = Math.min(part, size - offset);
                long from = offset;
                String etag = s3.uploadPart(UploadPartRequest.builder().bucket(settings.bucket()).key(fullKey(key))
                                .uploadId(uploadId).partNumber(number).contentLength(length).build(),
                        RequestBody.fromContentProvider(() -> slice(file, from, length), length,
                                "application/octet-stream")).eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            }
            s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(settings.bucket())
                    .key(fullKey(key)).uploadId(uploadId).ifNoneMatch("*")
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
            LOG.info("Uploaded {} in {} parts ({} bytes)", describe(key), parts.size(), size);
        } catch (RuntimeException e) {
            try {
                s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(settings.bucket())
                        .key(fullKey(key)).uploadId(uploadId).build());
            } catch (RuntimeException abort) {
                e.addSuppressed(abort);
            }
            throw e;
        }
    }

    /** {@code length} bytes of {@code file} from {@code offset}, streamed (the SDK may ask twice, to sign). */
    private static InputStream slice(Path file, long offset, long length) {
        try {
            InputStream in = Files.newInputStream(file);
            in.skipNBytes(offset);
            return new FilterInputStream(in) {
                private long left = length;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int b = super.read();
                    if (b >= 0) {
                        left--;
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = super.read(buf, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }

                @Override
                public long skip(long n) throws IOException {
                    long skipped = super.skip(Math.min(n, left));
                    left -= skipped;
                    return skipped;
                }

                @Override
                public int available() throws IOException {
                    return (int) Math.min(super.available(), left);
                }

                @Override
                public boolean markSupported() {
                    return false;
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public InputStream open(String key) throws IOException {
        try {
            return s3.getObject(GetObjectRequest.builder().bucket(settings.bucket()).key(fullKey(key)).build(),
                    ResponseTransformer.toInputStream());
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new FileNotFoundException(describe(key) + " does not exist");
            }
            throw failure("read", key, e);
        } catch (SdkException e) {
            throw failure("read", key, e);
        }
    }

    private IOException failure(String what, String key, SdkException e) {
        String status = e instanceof S3Exception s ? " (HTTP " + s.statusCode() + ")" : "";
        return new IOException("cannot " + what + " " + describe(key) + status + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        s3.close();
    }
}
