package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ModelCardTest {
    private static final String FULL = "{\"owner\":\"vision-team\",\"description\":\"d\",\"intended_use\":\"u\","
            + "\"out_of_scope_uses\":\"o\",\"limitations\":\"l\",\"risk_notes\":\"r\",\"risk_tier\":\"medium\","
            + "\"license\":\"Apache-2.0\",\"lineage\":{\"source\":\"s\",\"training_run\":\"run-7\","
            + "\"datasets\":[\"imagenet\"]},\"tags\":[\"cv\"],\"metrics\":{\"auc\":0.91,\"eval_set\":\"holdout\"}}";

    @Test
    void fromJson_thenToJson_roundTrips() {
        ModelCard card = ModelCard.fromJson(FULL);
        assertEquals(Optional.of("vision-team"), card.owner());
        assertEquals(Optional.of(RiskTier.MEDIUM), card.riskTier());
        assertEquals(List.of("imagenet"), card.lineage().orElseThrow().datasets());
        assertEquals(new BigDecimal("0.91"), card.metrics().get("auc"));
        assertEquals(FULL, card.toJson());
        assertEquals(card, ModelCard.fromJson(card.toJson()));
    }

    @Test
    void withPatch_mergesNestedObjects_andNullRemoves() {
        ModelCard card = ModelCard.fromJson(FULL).withPatch(ModelCard.parse(
                "{\"owner\":null,\"lineage\":{\"training_run\":\"run-8\"},\"metrics\":{\"auc\":null,\"f1\":0.5},"
                        + "\"tags\":[\"a\",\"b\"]}"));
        assertEquals(Optional.empty(), card.owner());
        assertEquals(Optional.of("s"), card.lineage().orElseThrow().source());
        assertEquals(Optional.of("run-8"), card.lineage().orElseThrow().trainingRun());
        assertEquals(List.of("eval_set", "f1"), List.copyOf(card.metrics().keySet()));
        assertEquals(List.of("a", "b"), card.tags());
    }

    @Test
    void withPatch_withUnknownField_namesIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                ModelCard.fromJson("{\"ownr\":\"x\"}"));
        assertEquals("unknown card field 'ownr'; the fields are " + ModelCard.FIELDS, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelCard.fromJson("{\"lineage\":{\"repo\":\"x\"}}"));
        assertEquals("unknown card field 'lineage.repo'; lineage has [source, training_run, datasets]", e.getMessage());
    }

    @Test
    void withPatch_withWrongType_namesFieldAndValue() {
        assertEquals("card field 'owner' must be a string or null, was 42", assertThrows(
                IllegalArgumentException.class, () -> ModelCard.fromJson("{\"owner\":42}")).getMessage());
        assertEquals("card field 'risk_tier' must be one of [low, medium, high], was \"extreme\"", assertThrows(
                IllegalArgumentException.class, () -> ModelCard.fromJson("{\"risk_tier\":\"extreme\"}")).getMessage());
        assertEquals("card field 'tags[1]' must be a string, was 3", assertThrows(
                IllegalArgumentException.class, () -> ModelCard.fromJson("{\"tags\":[\"a\",3]}")).getMessage());
        assertEquals("card field 'metrics.auc' must be a number, a string or null, was true", assertThrows(
                IllegalArgumentException.class, () -> ModelCard.fromJson("{\"metrics\":{\"auc\":true}}")).getMessage());
        assertEquals("a model card patch must be a JSON object, was array", assertThrows(
                IllegalArgumentException.class, () -> ModelCard.fromJson("[]")).getMessage());
    }

    @Test
    void value_ofBlankOrEmptyField_isEmpty() {
        ModelCard card = ModelCard.fromJson("{\"owner\":\"  \",\"tags\":[]}");
        assertEquals(Optional.empty(), card.value("owner"));
        assertEquals(Optional.empty(), card.value("tags"));
        assertEquals(Optional.empty(), card.value("metrics"));
        assertEquals(Optional.empty(), card.value("lineage.source"));
    }

    @Test
    void value_distinguishesListsThatJoinAlike() {
        ModelCard a = ModelCard.fromJson("{\"tags\":[\"a,b\"]}");
        ModelCard b = ModelCard.fromJson("{\"tags\":[\"a\",\"b\"]}");
        assertNotEquals(a.value("tags"), b.value("tags"));
    }

    @Test
    void value_ofUnknownField_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> ModelCard.EMPTY.value("lineage"));
    }
}
