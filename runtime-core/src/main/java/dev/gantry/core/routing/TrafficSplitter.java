package dev.gantry.core.routing;

import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Chooses a version for each unversioned request under one traffic policy. Immutable and thread-safe. */
public final class TrafficSplitter {
    /*
     * Unkeyed requests: a uniform draw in [0, total weight) falls into one route's slice of the cumulative
     * weights, so each version gets exactly its share in expectation.
     *
     * Keyed requests use weighted rendezvous hashing (Schindelhauer & Schomaker): each route with a positive
     * weight scores score(key, v) = -weight / ln(u), u = hash(key, v) mapped into (0, 1), and the highest score
     * wins. -ln(u) is Exp(1)-distributed, so -ln(u)/weight is Exp(weight) and the minimum of independent
     * exponentials is version v with probability weight_v / total: the shares match the weights. A key's
     * choice depends only on its own per-version hashes and the weights, so it is stable while the weights
     * are, and when one version's weight rises (others fall) a key can only move to that version; the keys
     * that move are exactly the share that must.
     *
     * The hash must be the same on every JVM and run, so it is written here: the key's UTF-8 bytes in 8-byte
     * little-endian words, each folded in through the SplitMix64 finalizer, then the version the same way.
     */
    /*
     * Unkeyed picks count the cumulative weights at or below the draw without a branch, over at least
     * PICK_SLOTS - 1 bounds (padded with Long.MAX_VALUE, which no draw reaches). The JIT compiles a branch that
     * has never gone one way as a trap: the binary search this replaced never looped while one version took all
     * traffic, so the first weighted split deoptimized the request handler it was inlined into, and the
     * recompilation on a busy core held requests back right when an operator was watching a rollout (the hot
     * swap benchmark's swap window). With the same loop shape for one to four versions, a split changes only data.
     */
    private static final int PICK_SLOTS = 4;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

    private final TrafficPolicy policy;
    private final long[] versions;
    private final int[] weights;
    /** The cumulative weights, padded with Long.MAX_VALUE to at least PICK_SLOTS entries. */
    private final long[] bounds;
    private final long total;

    private TrafficSplitter(TrafficPolicy policy) {
        this.policy = policy;
        List<Route> live = policy.routes().stream().filter(r -> r.weight() > 0).toList();
        versions = new long[live.size()];
        weights = new int[live.size()];
        long[] cumulative = new long[live.size()];
        long sum = 0;
        for (int i = 0; i < live.size(); i++) {
            versions[i] = live.get(i).version();
            weights[i] = live.get(i).weight();
            sum += weights[i];
            cumulative[i] = sum;
        }
        total = sum;
        bounds = Arrays.copyOf(cumulative, Math.max(PICK_SLOTS, cumulative.length));
        Arrays.fill(bounds, cumulative.length, bounds.length, Long.MAX_VALUE);
    }

    public static TrafficSplitter of(TrafficPolicy policy) {
        return new TrafficSplitter(Objects.requireNonNull(policy, "policy"));
    }

    public TrafficPolicy policy() {
        return policy;
    }

    /** A version for an unkeyed request, each with probability weight / total. */
    public long pick(RandomSource random) {
        long x = random.nextLong(total);
        long[] b = bounds;
        int index = 0;
        for (int i = 0; i < b.length - 1; i++) {
            index += (int) ((b[i] - 1 - x) >>> 63); // 1 when x >= b[i]: the draw lies past route i's slice
        }
        return versions[index];
    }

    /** The version for requests carrying routing key {@code key}: the same while the weights stay the same. */
    public long pickSticky(String key) {
        byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
        long keyHash = hashKey(bytes);
        long best = versions[0];
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < versions.length; i++) {
            double u = unit(mix(keyHash ^ mix(versions[i] + GOLDEN)));
            double score = -weights[i] / Math.log(u);
            if (score > bestScore || (score == bestScore && versions[i] < best)) {
                bestScore = score;
                best = versions[i];
            }
        }
        return best;
    }

    /** The versions this policy shadows, in policy order. */
    public List<Long> shadowVersions() {
        List<Long> out = new ArrayList<>();
        for (ShadowRoute s : policy.shadow()) {
            out.add(s.version());
        }
        return out;
    }

    /** Whether this request should also go to shadow {@code version}: true with probability percent / 100. */
    public boolean shadowFor(long version, RandomSource random) {
        for (ShadowRoute s : policy.shadow()) {
            if (s.version() == version) {
                return s.percent() >= 100 || random.nextLong(100) < s.percent();
            }
        }
        return false;
    }

    /** Versions with a positive weight, in policy order. */
    public List<Long> weightedVersions() {
        List<Long> out = new ArrayList<>(versions.length);
        for (long v : versions) {
            out.add(v);
        }
        return out;
    }

    /** A stable 64-bit hash of {@code key} and {@code version}; exposed for tests. */
    static long hash(String key, long version) {
        return mix(hashKey(key.getBytes(StandardCharsets.UTF_8)) ^ mix(version + GOLDEN));
    }

    private static long hashKey(byte[] b) {
        long h = mix(GOLDEN ^ b.length);
        int i = 0;
        for (; i + 8 <= b.length; i += 8) {
            long w = 0;
            for (int j = 7; j >= 0; j--) {
                w = (w << 8) | (b[i + j] & 0xFFL);
            }
            h = mix(h ^ w) + GOLDEN;
        }
        long w = 0;
        for (int j = b.length - 1; j >= i; j--) {
            w = (w << 8) | (b[j] & 0xFFL);
        }
        return mix(h ^ w ^ ((long) (b.length - i) << 56));
    }

    /** SplitMix64's finalizer (Stafford's Mix13): a bijection whose output bits each depend on every input bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The top 53 bits as a double strictly inside (0, 1). */
    private static double unit(long h) {
        return ((h >>> 11) + 0.5) * TWO_POW_MINUS_53;
    }
}
