package dev.gantry.store.rollout;

import java.util.Arrays;

/**
 * The compact text form of a latency histogram kept with a rollout observation: the non-empty buckets as
 * {@code index:count} pairs in increasing index order, comma-separated ({@code "12:40,13:7"}; empty for no
 * requests). A 64-bucket histogram takes at most about 1.5 KB, usually a few dozen bytes.
 */
public final class LatencyCodec {
    /** The most buckets a histogram may have (the core's histogram has 64). */
    public static final int MAX_BUCKETS = 64;
    /** The longest encoding: MAX_BUCKETS pairs of a two-digit index and a 19-digit count. */
    public static final int MAX_LENGTH = MAX_BUCKETS * (2 + 1 + 19 + 1);

    private LatencyCodec() {
    }

    /** @throws IllegalArgumentException for more than {@link #MAX_BUCKETS} buckets or a negative count */
    public static String encode(long[] buckets) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < buckets.length; i++) {
            if (buckets[i] < 0) {
                throw new IllegalArgumentException("latency bucket " + i + " is negative: " + buckets[i]);
            }
            if (buckets[i] > 0 && i >= MAX_BUCKETS) {
                throw new IllegalArgumentException("a latency histogram has at most " + MAX_BUCKETS
                        + " buckets, bucket " + i + " holds " + buckets[i]);
            }
            if (buckets[i] > 0) {
                b.append(b.isEmpty() ? "" : ",").append(i).append(':').append(buckets[i]);
            }
        }
        return b.toString();
    }

    /**
     * The histogram of {@code text}, {@link #MAX_BUCKETS} buckets long.
     *
     * @throws IllegalArgumentException naming what is wrong: a malformed pair, an index out of range or not
     *     increasing, a negative count
     */
    public static long[] decode(String text) {
        long[] out = new long[MAX_BUCKETS];
        if (text == null || text.isEmpty()) {
            return out;
        }
        int last = -1;
        for (String pair : text.split(",", -1)) {
            int colon = pair.indexOf(':');
            if (colon <= 0 || colon == pair.length() - 1) {
                throw new IllegalArgumentException("latency histogram '" + text + "': '" + pair
                        + "' is not index:count");
            }
            int i;
            long n;
            try {
                i = Integer.parseInt(pair.substring(0, colon));
                n = Long.parseLong(pair.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("latency histogram '" + text + "': '" + pair
                        + "' is not index:count");
            }
            if (i <= last || i >= MAX_BUCKETS) {
                throw new IllegalArgumentException("latency histogram '" + text + "': bucket " + i
                        + " out of order or out of 0.." + (MAX_BUCKETS - 1));
            }
            if (n < 0) {
                throw new IllegalArgumentException("latency histogram '" + text + "': bucket " + i + " is negative");
            }
            out[i] = n;
            last = i;
        }
        return out;
    }

    /** {@code buckets} without its trailing empty buckets. */
    static long[] trim(long[] buckets) {
        int n = buckets.length;
        while (n > 0 && buckets[n - 1] == 0) {
            n--;
        }
        return Arrays.copyOf(buckets, n);
    }
}
