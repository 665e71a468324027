package dev.gantry.core.routing;

import java.time.Duration;

/**
 * Per-request fallback and circuit breaking.
 *
 * @param enabled whether a failed unversioned request is retried once on a fallback version
 * @param retryRatio retries allowed as a share of requests over the last {@code window}
 * @param retryFloorPerSecond retries always allowed per second of the window, so low traffic can still fall back
 * @param window the retry budget's and the breakers' sliding window
 * @param breakerMinRequests requests a version needs in the window before its breaker may open
 * @param breakerFailureRatio the share of failed requests in the window that opens the breaker
 * @param breakerOpenFor how long an open breaker refuses before it lets one probe through (half-open)
 */
public record FallbackSettings(boolean enabled, double retryRatio, int retryFloorPerSecond, Duration window,
                               int breakerMinRequests, double breakerFailureRatio, Duration breakerOpenFor) {
    public static final FallbackSettings DEFAULTS = new FallbackSettings(true, 0.1, 5, Duration.ofSeconds(10), 20,
            0.5, Duration.ofSeconds(5));
    public static final FallbackSettings OFF = new FallbackSettings(false, 0.1, 5, Duration.ofSeconds(10), 20, 0.5,
            Duration.ofSeconds(5));

    public FallbackSettings {
        if (!(retryRatio >= 0 && retryRatio <= 1)) {
            throw new IllegalArgumentException("fallback retry ratio must be in 0..1, was " + retryRatio);
        }
        if (retryFloorPerSecond < 0) {
            throw new IllegalArgumentException("fallback retry floor must be >= 0, was " + retryFloorPerSecond);
        }
        if (window.toSeconds() < 1 || window.toSeconds() > 600) {
            throw new IllegalArgumentException("fallback window must be 1 s to 10 min, was " + window);
        }
        if (breakerMinRequests < 1) {
            throw new IllegalArgumentException("breaker min requests must be >= 1, was " + breakerMinRequests);
        }
        if (!(breakerFailureRatio > 0 && breakerFailureRatio <= 1)) {
            throw new IllegalArgumentException("breaker failure ratio must be in (0, 1], was " + breakerFailureRatio);
        }
        if (breakerOpenFor.isNegative() || breakerOpenFor.isZero()) {
            throw new IllegalArgumentException("breaker open time must be > 0, was " + breakerOpenFor);
        }
    }
}
