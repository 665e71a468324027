package dev.gantry.core.governance;

import dev.gantry.store.catalog.AuditChain;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.RiskTier;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which model card fields must be filled before a version of each risk tier may be approved, and the hash of
 * those fields an approval is bound to. Immutable; validated when built.
 */
public final class CardPolicy {
    /*
     * risk_tier itself is always required and always part of the hash: a card without a tier cannot be
     * approved (it would otherwise get the lightest requirements by omission), and changing the tier changes
     * which fields are required, so it voids an approval like any required field does.
     */
    static final String RISK_TIER = "risk_tier";
    private final Map<RiskTier, List<String>> required;

    private CardPolicy(Map<RiskTier, List<String>> required) {
        this.required = required;
    }

    /**
     * low: owner, description, intended_use; medium: those and limitations, license; high: those and
     * out_of_scope_uses, risk_notes, lineage.source, metrics.
     */
    public static CardPolicy defaults() {
        List<String> low = List.of("owner", "description", "intended_use");
        List<String> medium = concat(low, List.of("limitations", "license"));
        List<String> high = concat(medium, List.of("out_of_scope_uses", "risk_notes", "lineage.source", "metrics"));
        return of(Map.of(RiskTier.LOW, low, RiskTier.MEDIUM, medium, RiskTier.HIGH, high));
    }

    /**
     * A policy with the given required fields per tier (names from {@link ModelCard#REQUIRABLE_FIELDS}).
     *
     * @throws IllegalArgumentException when a tier is missing or a field name is unknown
     */
    public static CardPolicy of(Map<RiskTier, ? extends Collection<String>> requiredByTier) {
        Objects.requireNonNull(requiredByTier, "requiredByTier");
        Map<RiskTier, List<String>> out = new EnumMap<>(RiskTier.class);
        for (RiskTier tier : RiskTier.values()) {
            Collection<String> fields = requiredByTier.get(tier);
            if (fields == null) {
                throw new IllegalArgumentException("required fields for risk tier '" + tier.wireName()
                        + "' must be given, were " + requiredByTier.keySet());
            }
            Set<String> set = new LinkedHashSet<>();
            set.add(RISK_TIER);
            for (String f : fields) {
                if (!ModelCard.REQUIRABLE_FIELDS.contains(f)) {
                    throw new IllegalArgumentException("required fields for risk tier '" + tier.wireName()
                            + "' name an unknown card field '" + f + "'; the fields are " + ModelCard.REQUIRABLE_FIELDS);
                }
                set.add(f);
            }
            out.put(tier, List.copyOf(set));
        }
        return new CardPolicy(out);
    }

    /** The required fields of {@code tier}, {@code risk_tier} first. */
    public List<String> required(RiskTier tier) {
        return required.get(tier);
    }

    /** The required fields of the card's tier (low when it has none) that are empty, sorted by name. */
    public List<String> missing(ModelCard card) {
        List<String> out = new ArrayList<>();
        for (String f : required(tierOf(card))) {
            if (card.value(f).isEmpty()) {
                out.add(f);
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * SHA-256 (hex) over the names and values of the card's required fields; stable across releases for the
     * same card and policy. An approval is bound to it.
     */
    public String requiredFieldsHash(ModelCard card) {
        StringBuilder b = new StringBuilder();
        for (String f : required(tierOf(card))) {
            String v = card.value(f).orElse("");
            b.append(f).append('=').append(v.length()).append(':').append(v).append('\n');
        }
        return AuditChain.sha256(b.toString());
    }

    /** The fields, required by either card's tier, whose values differ between the two cards; sorted. */
    public List<String> changedRequiredFields(ModelCard before, ModelCard after) {
        Set<String> fields = new LinkedHashSet<>(required(tierOf(before)));
        fields.addAll(required(tierOf(after)));
        List<String> out = new ArrayList<>();
        for (String f : fields) {
            if (!before.value(f).equals(after.value(f))) {
                out.add(f);
            }
        }
        out.sort(null);
        return out;
    }

    /** How many distinct approvers a version of {@code tier} needs: two for high, one otherwise. */
    public int approversNeeded(RiskTier tier) {
        return tier == RiskTier.HIGH ? 2 : 1;
    }

    static RiskTier tierOf(ModelCard card) {
        return card.riskTier().orElse(RiskTier.LOW);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Override
    public String toString() {
        return "CardPolicy" + required;
    }
}
