package dev.gantry.core.model;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** ModelId as a map key: equal exactly when name and version are (its equals and hashCode are written out). */
class ModelIdTest {
    @Test
    void equalNameAndVersion_areEqualKeys_andAnyDifference_isAnother() {
        ModelId a = new ModelId("mlp", 3);
        ModelId same = new ModelId(new String("mlp".toCharArray()), 3);

        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        assertNotEquals(a, new ModelId("mlp", 4));
        assertNotEquals(a, new ModelId("mlq", 3));
        assertNotEquals(a, new ModelId("MLP", 3));
        assertNotEquals(a, (Object) "mlp/3");
        assertNotEquals(a, null);

        Map<ModelId, String> m = new HashMap<>();
        m.put(a, "three");
        m.put(new ModelId("mlp", 4), "four");
        assertEquals("three", m.get(same));
        assertEquals(2, m.size());
    }

    @Test
    void versionsDifferingOnlyInHighBits_areDifferentKeys() {
        ModelId low = new ModelId("m", 1);
        ModelId high = new ModelId("m", 1L + (1L << 32));
        assertNotEquals(low, high);
        assertEquals(2, Map.of(low, 1, high, 2).size());
    }

    @Test
    void aVersionBelowOne_isRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ModelId("m", 0));
        assertThrows(NullPointerException.class, () -> new ModelId(null, 1));
    }
}
