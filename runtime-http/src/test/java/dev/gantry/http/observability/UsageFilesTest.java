package dev.gantry.http.observability;

import dev.gantry.core.usage.Price;
import dev.gantry.core.usage.Quota;
import dev.gantry.http.usage.UsageFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** prices.json and quotas.json: what they mean, and typos refused with the file and field named. */
class UsageFilesTest {
    @TempDir
    Path dir;

    @Test
    void prices_perModel_withTheDefaultForOthers_andUnsetPartsFree() throws Exception {
        Path f = Files.writeString(dir.resolve("prices.json"), "{\"default\": {\"per_1k_requests\": 0.5},"
                + " \"models\": {\"minilm\": {\"per_1k_tokens\": 0.01, \"per_compute_second\": 2}}}");
        var prices = UsageFiles.prices(f);
        assertEquals(new Price(0, 0.01, 2), prices.of("minilm"));
        assertEquals(new Price(0.5, 0, 0), prices.of("mlp"));
    }

    @Test
    void quotas_byKeyIdOrName_withTheDefaultForOthers() throws Exception {
        Path f = Files.writeString(dir.resolve("quotas.json"), "{\"default\": {\"requests_per_day\": 10},"
                + " \"keys\": {\"app-a\": {\"requests_per_month\": 100, \"cost_per_day\": 1.5}}}");
        var quotas = UsageFiles.quotas(f);
        assertEquals(new Quota(OptionalLong.empty(), OptionalLong.of(100), OptionalDouble.of(1.5),
                OptionalDouble.empty()), quotas.of("3f9a0c2e1b7d", "app-a"));
        assertEquals(new Quota(OptionalLong.of(10), OptionalLong.empty(), OptionalDouble.empty(),
                OptionalDouble.empty()), quotas.of("0123456789ab", "app-b"));
    }

    @Test
    void missingFiles_meanNoPricesAndNoQuotas() throws Exception {
        assertTrue(UsageFiles.quotas(dir.resolve("quotas.json")).isEmpty());
        assertEquals(Price.FREE, UsageFiles.prices(dir.resolve("prices.json")).of("any"));
    }

    @Test
    void unknownField_isRefused_namingFileAndField() throws Exception {
        Path f = Files.writeString(dir.resolve("quotas.json"), "{\"keys\": {\"app-a\": {\"request_per_day\": 5}}}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UsageFiles.quotas(f));
        assertTrue(e.getMessage().contains("quotas.json") && e.getMessage().contains("keys.app-a.request_per_day"),
                e.getMessage());
    }

    @Test
    void negativeOrFractionalLimits_areRefused() throws Exception {
        Path negative = Files.writeString(dir.resolve("prices.json"), "{\"default\": {\"per_1k_requests\": -1}}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> UsageFiles.prices(negative)).getMessage()
                .contains("per_1k_requests must be a finite number >= 0"));
        Path fractional = Files.writeString(dir.resolve("quotas.json"), "{\"default\": {\"requests_per_day\": 2.5}}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> UsageFiles.quotas(fractional)).getMessage()
                .contains("requests_per_day must be a whole number"));
    }
}
