package dev.gantry.core.usage;

import java.time.Instant;

/**
 * A refusal: the key is over {@code quota} (e.g. requests_per_day) and may call again at {@code resetAt}.
 *
 * @param message what to tell the caller; names the quota, its limit and the reset instant
 */
public record QuotaExceeded(String quota, String keyName, double limit, Instant resetAt, String message) {
}
