package dev.gantry.store.catalog;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How much harm a model can do; decides which model card fields are required and how many approvers. */
public enum RiskTier {
    LOW,
    MEDIUM,
    HIGH;

    /** The name in model cards and configuration: {@code low}, {@code medium}, {@code high}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<RiskTier> fromWire(String s) {
        return Arrays.stream(values()).filter(t -> t.wireName().equals(s)).findFirst();
    }
}
