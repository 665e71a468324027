package dev.gantry.core.governance;

import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.RiskTier;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CardPolicyTest {
    private final CardPolicy policy = CardPolicy.defaults();

    @Test
    void missing_ofEmptyCard_namesRiskTierAndTheLowTierFields() {
        assertEquals(List.of("description", "intended_use", "owner", "risk_tier"), policy.missing(ModelCard.EMPTY));
    }

    @Test
    void missing_ofMediumCard_addsLimitationsAndLicense() {
        ModelCard card = ModelCard.fromJson("{\"owner\":\"o\",\"description\":\"d\",\"intended_use\":\"u\","
                + "\"risk_tier\":\"medium\"}");
        assertEquals(List.of("license", "limitations"), policy.missing(card));
    }

    @Test
    void missing_ofHighCard_requiresLineageSourceAndNonEmptyMetrics() {
        ModelCard card = GovernanceFixture.HIGH_CARD.withPatch(ModelCard.parse(
                "{\"metrics\":{\"auc\":null},\"lineage\":{\"source\":\"\"}}"));
        assertEquals(List.of("lineage.source", "metrics"), policy.missing(card));
        assertEquals(List.of(), policy.missing(GovernanceFixture.HIGH_CARD));
    }

    @Test
    void requiredFieldsHash_changesWithARequiredField_butNotWithAnOptionalOne() {
        ModelCard card = GovernanceFixture.LOW_CARD;
        String h = policy.requiredFieldsHash(card);
        assertEquals(h, policy.requiredFieldsHash(ModelCard.fromJson(card.toJson())));
        assertEquals(h, policy.requiredFieldsHash(card.withPatch(ModelCard.parse("{\"tags\":[\"x\"]}"))));
        assertNotEquals(h, policy.requiredFieldsHash(card.withPatch(ModelCard.parse("{\"owner\":\"other\"}"))));
        assertNotEquals(h, policy.requiredFieldsHash(card.withPatch(ModelCard.parse("{\"risk_tier\":\"medium\"}"))));
    }

    @Test
    void changedRequiredFields_namesOnlyRequiredOnes() {
        ModelCard after = GovernanceFixture.LOW_CARD.withPatch(ModelCard.parse(
                "{\"owner\":\"x\",\"tags\":[\"t\"],\"risk_tier\":\"medium\"}"));
        assertEquals(List.of("owner", "risk_tier"),
                policy.changedRequiredFields(GovernanceFixture.LOW_CARD, after));
    }

    @Test
    void of_isConfigurable_andRejectsUnknownFields() {
        CardPolicy strict = CardPolicy.of(Map.of(RiskTier.LOW, List.of("owner", "tags"), RiskTier.MEDIUM, List.of(),
                RiskTier.HIGH, List.of()));
        assertEquals(List.of("owner", "risk_tier", "tags"), strict.missing(ModelCard.EMPTY));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CardPolicy.of(Map.of(
                RiskTier.LOW, List.of("ownr"), RiskTier.MEDIUM, List.of(), RiskTier.HIGH, List.of())));
        assertEquals("required fields for risk tier 'low' name an unknown card field 'ownr'; the fields are "
                + ModelCard.REQUIRABLE_FIELDS, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CardPolicy.of(Map.of(RiskTier.LOW, List.of())));
    }

    @Test
    void approversNeeded_isTwoOnlyForHighTier() {
        assertEquals(1, policy.approversNeeded(RiskTier.LOW));
        assertEquals(1, policy.approversNeeded(RiskTier.MEDIUM));
        assertEquals(2, policy.approversNeeded(RiskTier.HIGH));
    }
}
