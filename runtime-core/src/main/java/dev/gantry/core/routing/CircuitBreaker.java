package dev.gantry.core.routing;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * One version's circuit breaker: CLOSED lets everything through; OPEN (the version kept failing) refuses until
 * its time is up; then HALF_OPEN lets one probe through at a time, and closes on a success or opens again on a
 * failure.
 */
public final class CircuitBreaker {
    /** The breaker's state; {@link #gaugeValue()} exports it as 0, 1, 2. */
    public enum State {
        CLOSED(0), HALF_OPEN(1), OPEN(2);

        final int gauge;

        State(int gauge) {
            this.gauge = gauge;
        }
    }

    private final FallbackSettings settings;
    private final LongSupplier millis;
    private final SlidingCounts window;
    private final AtomicReference<State> state = new AtomicReference<>(State.CLOSED);
    private final AtomicLong openedAt = new AtomicLong();
    private final AtomicBoolean probing = new AtomicBoolean();

    CircuitBreaker(FallbackSettings settings, LongSupplier millis) {
        this.settings = settings;
        this.millis = millis;
        this.window = new SlidingCounts((int) settings.window().toSeconds());
    }

    public State state() {
        State s = state.get();
        if (s == State.OPEN && millis.getAsLong() - openedAt.get() >= settings.breakerOpenFor().toMillis()) {
            state.compareAndSet(State.OPEN, State.HALF_OPEN);
            return state.get();
        }
        return s;
    }

    public int gaugeValue() {
        return state().gauge;
    }

    /** Whether a request may be sent now; in HALF_OPEN, true for one probe at a time. */
    boolean allow() {
        return switch (state()) {
            case CLOSED -> true;
            case OPEN -> false;
            case HALF_OPEN -> probing.compareAndSet(false, true);
        };
    }

    void success() {
        if (state.get() == State.HALF_OPEN) {
            window.reset();
            state.set(State.CLOSED);
            probing.set(false);
        }
        window.add(millis.getAsLong(), false);
    }

    /** A request that says nothing about the version's health (a client error) ends; frees the probe. */
    void neutral() {
        probing.set(false);
    }

    void failure() {
        long now = millis.getAsLong();
        if (state.get() == State.HALF_OPEN) {
            open(now);
            return;
        }
        window.add(now, true);
        long[] w = window.sum(now);
        if (state.get() == State.CLOSED && w[0] >= settings.breakerMinRequests()
                && w[1] >= settings.breakerFailureRatio() * w[0]) {
            open(now);
        }
    }

    private void open(long now) {
        openedAt.set(now);
        state.set(State.OPEN);
        probing.set(false);
    }
}
