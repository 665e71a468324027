package dev.gantry.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.http.json.Json;
import dev.gantry.store.catalog.RiskTier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The card fields each risk tier requires: {@code <data>/card-policy.json} ({"low": [...], "medium": [...],
 * "high": [...]}) when present, else the defaults.
 */
final class CardPolicyFile {
    private CardPolicyFile() {
    }

    /** @throws IllegalArgumentException naming the file and the bad field; IOException when it cannot be read */
    static CardPolicy read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return CardPolicy.defaults();
        }
        JsonNode root = Json.MAPPER.readTree(file.toFile());
        Map<RiskTier, Collection<String>> required = new EnumMap<>(RiskTier.class);
        for (RiskTier tier : RiskTier.values()) {
            List<String> fields = new ArrayList<>();
            root.path(tier.name().toLowerCase(Locale.ROOT)).forEach(f -> fields.add(f.asText()));
            required.put(tier, fields);
        }
        try {
            return CardPolicy.of(required);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
