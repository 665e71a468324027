package dev.gantry.store.artifact;

/**
 * How much an upload may weigh, before and after expansion.
 *
 * @param maxUploadBytes    the largest upload accepted, as received
 * @param maxExpandedBytes  the most bytes a bundle may expand to (for a tar.gz: the tar stream, headers included)
 * @param maxEntries        the most entries a bundle may hold, directories included
 * @param maxExpansionRatio the most expanded bytes per uploaded byte; a zip bomb is refused as soon as it is
 *                          exceeded (the first {@link #RATIO_GRACE_BYTES} are exempt, so small bundles of text
 *                          files never trip it)
 */
public record ArtifactLimits(long maxUploadBytes, long maxExpandedBytes, int maxEntries, double maxExpansionRatio) {

    /** Expanded bytes allowed whatever the ratio: a tar header block alone expands 512 bytes from a few. */
    public static final long RATIO_GRACE_BYTES = 1L << 20;

    public ArtifactLimits {
        if (maxUploadBytes <= 0) {
            throw new IllegalArgumentException("maxUploadBytes must be > 0, was " + maxUploadBytes);
        }
        if (maxExpandedBytes <= 0) {
            throw new IllegalArgumentException("maxExpandedBytes must be > 0, was " + maxExpandedBytes);
        }
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be > 0, was " + maxEntries);
        }
        if (!(maxExpansionRatio >= 1.0)) {
            throw new IllegalArgumentException("maxExpansionRatio must be >= 1, was " + maxExpansionRatio);
        }
    }

    /** 2 GiB uploads expanding to at most 4 GiB, 1000 entries, 100:1. */
    public static ArtifactLimits defaults() {
        return new ArtifactLimits(2L << 30, 4L << 30, 1000, 100.0);
    }
}
