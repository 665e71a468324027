package dev.gantry.http.auth;

import java.util.Optional;

/**
 * Who made a request: a key's name, or "anonymous" when the server has no keys. Stored on the routing
 * context for the access log and for attributing changes.
 */
public record Caller(String name, Optional<ApiKey> key) {
    public static final String CONTEXT_KEY = "gantry.caller";
    public static final Caller ANONYMOUS = new Caller("anonymous", Optional.empty());

    public static Caller of(ApiKey key) {
        return new Caller(key.name(), Optional.of(key));
    }
}
