package dev.gantry.store.artifact;

import dev.gantry.store.artifact.ArtifactException.Reason;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Counts what a bundle expands to and stops it the moment it passes a limit, before the disk fills. */
final class ExpansionBudget {
    private final ArtifactLimits limits;
    private final long uploadBytes;
    private final long ratioAllowance;
    private long expanded;
    private int entries;

    ExpansionBudget(ArtifactLimits limits, long uploadBytes) {
        this.limits = limits;
        this.uploadBytes = uploadBytes;
        double byRatio = limits.maxExpansionRatio() * uploadBytes;
        this.ratioAllowance = Math.max(ArtifactLimits.RATIO_GRACE_BYTES,
                byRatio >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) byRatio);
    }

    void addEntry(String name) throws ArtifactException {
        entries++;
        if (entries > limits.maxEntries()) {
            throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle has more than " + limits.maxEntries()
                    + " entries (stopped at '" + name + "')");
        }
    }

    void addBytes(long count) throws ArtifactException {
        expanded += count;
        if (expanded > limits.maxExpandedBytes()) {
            throw new ArtifactException(Reason.TOO_LARGE, "bundle expands to more than "
                    + limits.maxExpandedBytes() + " bytes");
        }
        if (expanded > ratioAllowance) {
            throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle expands more than "
                    + limits.maxExpansionRatio() + " times its " + uploadBytes + " bytes (" + expanded
                    + " bytes so far): refused as a decompression bomb");
        }
    }

    long expanded() {
        return expanded;
    }

    /** {@code in}, counting every byte read from it against this budget. */
    InputStream counting(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    charge(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    charge(n);
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                // read instead of skip, so skipped bytes are counted too
                byte[] sink = new byte[(int) Math.min(n, 8192)];
                int read = read(sink, 0, sink.length);
                return Math.max(read, 0);
            }

            private void charge(long n) throws Exceeded {
                try {
                    addBytes(n);
                } catch (ArtifactException e) {
                    throw new Exceeded(e);
                }
            }
        };
    }

    /** Carries a limit breach through the {@link InputStream} API, which only lets IOExceptions out. */
    static final class Exceeded extends IOException {
        Exceeded(ArtifactException cause) {
            super(cause.getMessage(), cause);
        }

        ArtifactException breach() {
            return (ArtifactException) getCause();
        }
    }
}
