package dev.gantry.core.scheduling;

/** A source of nanosecond time, injected so batching delays and timeouts can be tested without sleeping. */
@FunctionalInterface
public interface Ticker {
    long read();

    static Ticker system() {
        return System::nanoTime;
    }
}
