package dev.gantry.http.sizing;

import dev.gantry.core.engine.OrtMemory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --ort-memory}: how ORT keeps tensor memory between runs, derived unless set, and stated at start. */
class OrtMemoryFlagTest {
    private static final MachineDefaults TWO_CORES = MachineDefaults.derive(2, 24L << 30);

    @Test
    void noFlag_takesTheDerivedMode_arena() throws Exception {
        ServerConfig c = ServerConfigParser.parse(List.of(), Map.of(), TWO_CORES);
        assertEquals(OrtMemory.ARENA, TWO_CORES.ortMemory());
        assertEquals(TWO_CORES.ortMemory(), c.execution().memory());
    }

    @ParameterizedTest
    @CsvSource({"arena,ARENA", "arena-shrink,ARENA_SHRINK", "no-arena,NO_ARENA", "No-Arena,NO_ARENA",
            "auto,ARENA"})
    void flag_setsTheMode(String value, OrtMemory expected) throws Exception {
        assertEquals(expected, ServerConfigParser.parse(List.of("--ort-memory", value), Map.of(), TWO_CORES)
                .execution().memory());
    }

    @Test
    void environment_setsTheMode() throws Exception {
        assertEquals(OrtMemory.ARENA, ServerConfigParser.parse(List.of(), Map.of("GANTRY_ORT_MEMORY", "arena"),
                TWO_CORES).execution().memory());
    }

    @Test
    void unknownMode_isRefusedNamingTheChoices() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--ort-memory", "pooled"), Map.of(), TWO_CORES));
        assertEquals("--ort-memory must be one of auto, arena, arena-shrink, no-arena, was 'pooled'", e.getMessage());
    }

    @Test
    void unknownModeFromTheEnvironment_namesTheVariable() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of(), Map.of("GANTRY_ORT_MEMORY", "off"), TWO_CORES));
        assertEquals("--ort-memory (from GANTRY_ORT_MEMORY) must be one of auto, arena, arena-shrink, no-arena, "
                + "was 'off'", e.getMessage());
    }

    @Test
    void startLine_statesTheMode_andWhatAFlagReplaced() {
        Machine m = new Machine(2, 24L << 30, Optional.empty());
        ServerSizing derived = new ServerSizing(m, TWO_CORES, 1, 2, 1, 1, TWO_CORES.heapBytes(), OrtMemory.ARENA,
                NetworkTransport.derived(), BufferAccess.current());
        ServerSizing set = new ServerSizing(m, TWO_CORES, 1, 2, 1, 1, TWO_CORES.heapBytes(),
                OrtMemory.ARENA_SHRINK, NetworkTransport.derived(), BufferAccess.current());
        assertTrue(derived.describe().contains(", ORT memory arena, transport "), derived.describe());
        assertTrue(set.describe().contains(", ORT memory arena-shrink (set; derived arena), transport "),
                set.describe());
    }
}
