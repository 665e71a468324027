package dev.gantry.store.artifact;

import java.time.Duration;

/**
 * How uploads share the server: how many run at once (each on the upload executor's own thread), how long one
 * may send nothing before it is dropped, and how much disk must stay free.
 *
 * @param maxConcurrent   uploads in progress at once; one more is refused (503) rather than queued
 * @param idleTimeout     an upload that sends no byte for this long is dropped (408) and its partial file deleted
 * @param minFreeBytes    an upload is refused (507) when the disk would keep less than this free after it
 */
public record UploadLimits(int maxConcurrent, Duration idleTimeout, long minFreeBytes) {
    public UploadLimits {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be >= 1, was " + maxConcurrent);
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, was " + idleTimeout);
        }
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException("minFreeBytes must be >= 0, was " + minFreeBytes);
        }
    }

    /** 2 uploads at once, 30 s idle timeout, 1 GiB kept free. */
    public static UploadLimits defaults() {
        return new UploadLimits(2, Duration.ofSeconds(30), 1L << 30);
    }
}
