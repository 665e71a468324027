package dev.gantry.core.routing;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/** The randomness routing decisions draw on; injected so tests are deterministic. */
@FunctionalInterface
public interface RandomSource {
    /** A uniformly distributed value in [0, bound); {@code bound} is positive. */
    long nextLong(long bound);

    /** Draws from the calling thread's {@link ThreadLocalRandom}: for production. */
    static RandomSource threadLocal() {
        return bound -> ThreadLocalRandom.current().nextLong(bound);
    }

    /**
     * Draws from {@code generator}, which must be safe for the threads that route (a seeded
     * {@link java.util.SplittableRandom} is not; synchronize it or use it from one thread).
     */
    static RandomSource of(RandomGenerator generator) {
        return generator::nextLong;
    }
}
