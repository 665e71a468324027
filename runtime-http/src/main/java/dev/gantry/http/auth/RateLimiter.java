package dev.gantry.http.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/** A token bucket per key: {@code rate} requests per second on average, bursts of up to {@code burst}. */
public final class RateLimiter {
    private final double defaultRate;
    private final double burst;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** @param defaultRate requests per second for keys without their own limit; 0 turns the default off */
    public RateLimiter(double defaultRate, double burst, LongSupplier nanoTime) {
        if (defaultRate < 0) {
            throw new IllegalArgumentException("rate limit must be >= 0, was " + defaultRate);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("rate burst must be >= 1, was " + burst);
        }
        this.defaultRate = defaultRate;
        this.burst = burst;
        this.nanoTime = nanoTime;
    }

    /** 0 if the request may go ahead, else how many seconds (>= 1) to wait before retrying. */
    public long tryAcquire(ApiKey key) {
        double rate = key.ratePerSecond().orElse(defaultRate);
        if (rate <= 0) {
            return 0;
        }
        Bucket b = buckets.computeIfAbsent(key.id(), id -> new Bucket(Math.max(burst, 1), nanoTime.getAsLong()));
        return b.take(rate, Math.max(burst, 1), nanoTime.getAsLong());
    }

    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        synchronized long take(double rate, double capacity, long now) {
            tokens = Math.min(capacity, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            double waitSeconds = (1 - tokens) / rate;
            return Math.max(1, (long) Math.ceil(waitSeconds));
        }
    }
}
