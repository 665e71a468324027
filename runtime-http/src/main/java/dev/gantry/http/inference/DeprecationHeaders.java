package dev.gantry.http.inference;

import dev.gantry.core.model.ModelId;
import dev.gantry.core.release.Deprecation;
import dev.gantry.core.release.Releases;
import io.vertx.core.http.HttpServerResponse;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Tells callers of a deprecated version so: RFC 9745 {@code Deprecation} (when it was deprecated) and RFC 8594
 * {@code Sunset} (when it stops answering). Also records the version as served, for the catalogue.
 */
public final class DeprecationHeaders {
    private final Releases releases;

    public DeprecationHeaders(Releases releases) {
        this.releases = releases;
    }

    /** Adds the headers for the version that served this response, when it is deprecated. */
    void addTo(HttpServerResponse response, ModelId servedBy) {
        java.util.Map<String, String> h = headers(servedBy);
        if (!h.isEmpty()) {
            h.forEach(response::putHeader);
        }
    }

    /** The headers for the version that served a response (none unless it is deprecated); records it as served. */
    public java.util.Map<String, String> headers(ModelId servedBy) {
        Optional<Deprecation> d = releases.served(servedBy);
        if (d.isEmpty()) {
            return java.util.Map.of();
        }
        java.util.Map<String, String> h = new java.util.LinkedHashMap<>();
        h.put("Deprecation", "@" + d.get().since().getEpochSecond());
        d.get().sunset().ifPresent(s -> h.put("Sunset",
                DateTimeFormatter.RFC_1123_DATE_TIME.format(s.atZone(ZoneOffset.UTC))));
        return h;
    }
}
