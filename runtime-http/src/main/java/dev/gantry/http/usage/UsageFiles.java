package dev.gantry.http.usage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.usage.Price;
import dev.gantry.core.usage.Prices;
import dev.gantry.core.usage.Quota;
import dev.gantry.core.usage.Quotas;
import dev.gantry.http.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads {@code <data>/prices.json} and {@code <data>/quotas.json} (read once at start; a missing file means no
 * prices, no quotas). Unknown fields are refused with the file and field named, so a typo cannot silently
 * leave a key unlimited.
 */
public final class UsageFiles {
    private static final Set<String> PRICE_FIELDS = Set.of("per_1k_requests", "per_1k_tokens", "per_compute_second");
    private static final Set<String> QUOTA_FIELDS = Set.of("requests_per_day", "requests_per_month", "cost_per_day",
            "cost_per_month");

    private UsageFiles() {
    }

    /** {"default": {price}, "models": {"name": {price}}}; a price has per_1k_requests, per_1k_tokens, per_compute_second. */
    public static Prices prices(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Prices.NONE;
        }
        JsonNode root = read(file, Set.of("default", "models"));
        Price def = root.has("default") ? price(file, "default", root.get("default")) : Price.FREE;
        Map<String, Price> byModel = new HashMap<>();
        JsonNode models = root.path("models");
        for (Iterator<Map.Entry<String, JsonNode>> it = models.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byModel.put(e.getKey(), price(file, "models." + e.getKey(), e.getValue()));
        }
        return new Prices(byModel, def);
    }

    /** {"default": {quota}, "keys": {"key id or name": {quota}}}; a quota has requests_per_day/month, cost_per_day/month. */
    public static Quotas quotas(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Quotas.NONE;
        }
        JsonNode root = read(file, Set.of("default", "keys"));
        Quota def = root.has("default") ? quota(file, "default", root.get("default")) : Quota.UNLIMITED;
        Map<String, Quota> byKey = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("keys").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byKey.put(e.getKey(), quota(file, "keys." + e.getKey(), e.getValue()));
        }
        return new Quotas(byKey, def);
    }

    private static JsonNode read(Path file, Set<String> fields) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + " must hold a JSON object");
        }
        checkFields(file, "", root, fields);
        return root;
    }

    private static Price price(Path file, String where, JsonNode n) {
        checkFields(file, where + ".", n, PRICE_FIELDS);
        try {
            return new Price(number(file, where, n, "per_1k_requests"), number(file, where, n, "per_1k_tokens"),
                    number(file, where, n, "per_compute_second"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + where + ": " + e.getMessage(), e);
        }
    }

    private static Quota quota(Path file, String where, JsonNode n) {
        checkFields(file, where + ".", n, QUOTA_FIELDS);
        try {
            return new Quota(whole(file, where, n, "requests_per_day"), whole(file, where, n, "requests_per_month"),
                    optionalNumber(file, where, n, "cost_per_day"), optionalNumber(file, where, n, "cost_per_month"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + where + ": " + e.getMessage(), e);
        }
    }

    private static void checkFields(Path file, String prefix, JsonNode n, Set<String> allowed) {
        if (!n.isObject()) {
            throw new IllegalArgumentException(file + ": " + (prefix.isEmpty() ? "the top level" : prefix) + " must be"
                    + " a JSON object");
        }
        n.fieldNames().forEachRemaining(f -> {
            if (!allowed.contains(f)) {
                throw new IllegalArgumentException(file + ": unknown field '" + prefix + f + "'; fields are "
                        + allowed.stream().sorted().toList());
            }
        });
    }

    private static double number(Path file, String where, JsonNode n, String field) {
        return optionalNumber(file, where, n, field).orElse(0);
    }

    private static OptionalDouble optionalNumber(Path file, String where, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return OptionalDouble.empty();
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException(file + ": " + where + "." + field + " must be a number, was " + v);
        }
        return OptionalDouble.of(v.asDouble());
    }

    private static OptionalLong whole(Path file, String where, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return OptionalLong.empty();
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException(file + ": " + where + "." + field + " must be a whole number, was " + v);
        }
        return OptionalLong.of(v.asLong());
    }
}
