package dev.gantry.store.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/** The shared copy of every uploaded artifact: a bucket of immutable objects, one per version. */
interface ObjectStore extends AutoCloseable {

    /** What the store holds under a key: its size and the SHA-256 recorded when it was written, if any. */
    record StoredObject(long sizeBytes, Optional<String> sha256) {
    }

    /** The object under {@code key}, or empty when there is none. */
    Optional<StoredObject> head(String key) throws IOException;

    /**
     * Writes {@code file} under {@code key} with its SHA-256 recorded beside it, unless an object is there already;
     * large files go up in parts, read from the file part by part (never whole in memory).
     *
     * @return false when an object already existed (nothing was written)
     */
    boolean putIfAbsent(String key, Path file, String sha256) throws IOException;

    /** Reads the object; the caller closes the stream. */
    InputStream open(String key) throws IOException;

    /** Where {@code key} lives, for messages: {@code s3://bucket/prefix/key}. */
    String describe(String key);

    @Override
    void close();
}
