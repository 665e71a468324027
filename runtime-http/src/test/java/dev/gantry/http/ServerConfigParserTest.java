package dev.gantry.http;

import dev.gantry.http.sizing.Machine;
import dev.gantry.http.sizing.MachineDefaults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ServerConfigParserTest {
    @Test
    void noFlagsNoEnvironment_givesTheDocumentedDefaults() throws Exception {
        ServerConfig c = ServerConfigParser.parse(List.of(), Map.of());
        assertEquals("127.0.0.1", c.host());
        assertEquals(8080, c.port());
        assertEquals(Path.of("models"), c.modelsDir());
        assertEquals(Path.of("data"), c.dataDir());
        assertEquals(MachineDefaults.of(Machine.current()).intraOpThreads(), c.execution().intraOpThreads());
        assertEquals("off", c.security().accessLog());
        assertEquals(8001, c.grpcPort());
    }

    @Test
    void noSizingFlags_takeThePoolsDerivedForTheMachine() throws Exception {
        MachineDefaults eightCores = MachineDefaults.derive(8, 32L << 30);
        ServerConfig c = ServerConfigParser.parse(List.of(), Map.of(), eightCores);
        assertEquals(4, c.eventLoops());
        assertEquals(4, c.workerThreads());
        assertEquals(2, c.execution().intraOpThreads());
        assertEquals(1, c.execution().interOpThreads());
    }

    @Test
    void sizingFlags_overrideTheDerivedValue_andAutoKeepsIt() throws Exception {
        MachineDefaults eightCores = MachineDefaults.derive(8, 32L << 30);
        ServerConfig c = ServerConfigParser.parse(List.of("--event-loops", "3", "--intra-op-threads", "auto"),
                Map.of("GANTRY_WORKER_THREADS", "7"), eightCores);
        assertEquals(3, c.eventLoops());
        assertEquals(7, c.workerThreads());
        assertEquals(2, c.execution().intraOpThreads());
    }

    @Test
    void grpcPort_minusOneTurnsTheGrpcEndpointOff_zeroPicksAFreePort() throws Exception {
        assertEquals(-1, ServerConfigParser.parse(List.of("--grpc-port", "-1"), Map.of()).grpcPort());
        assertEquals(0, ServerConfigParser.parse(List.of(), Map.of("GANTRY_GRPC_PORT", "0")).grpcPort());
    }

    @Test
    void grpcPort_equalToTheHttpPort_isRefused() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--port", "9000", "--grpc-port", "9000"), Map.of()));
        assertEquals("--grpc-port must differ from --port and --admin-port (9000)", e.getMessage());
    }

    @Test
    void flagsWinOverEnvironment_andEnvironmentOverDefaults() throws Exception {
        ServerConfig c = ServerConfigParser.parse(List.of("--port", "9000", "--models=/m"),
                Map.of("GANTRY_PORT", "7000", "GANTRY_HOST", "0.0.0.0"));
        assertEquals(9000, c.port());
        assertEquals("0.0.0.0", c.host());
        assertEquals(Path.of("/m"), c.modelsDir());
    }

    @Test
    void noBatchingFlag_turnsBatchingOff() throws Exception {
        assertFalse(ServerConfigParser.parse(List.of("--no-batching"), Map.of()).batching());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--port|abc|--port must be a whole number, was 'abc'",
            "--port|70000|--port must be between 0 and 65535, was 70000",
            "--grpc-port|-2|--grpc-port must be between -1 and 65535, was -2",
            "--batching|maybe|--batching must be true or false, was 'maybe'",
            "--intra-op-threads|0|--intra-op-threads must be between 1 and 256, was 0",
            "--max-body-bytes|-1|--max-body-bytes must be between 1024 and 2147483639, was -1",
            "--max-body-bytes|2147483648|--max-body-bytes must be between 1024 and 2147483639, was 2147483648"})
    void badFlagValue_failsNamingTheSettingAndTheValue(String flag, String value, String message) {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of(flag, value), Map.of()));
        assertEquals(message, e.getMessage());
    }

    @Test
    void badEnvironmentValue_namesTheVariable() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of(), Map.of("GANTRY_EVENT_LOOPS", "many")));
        assertEquals("--event-loops (from GANTRY_EVENT_LOOPS) must be a whole number, was 'many'", e.getMessage());
    }

    @Test
    void unknownFlag_isRefusedListingTheKnownOnes() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--prot", "1"), Map.of()));
        assertEquals(true, e.getMessage().startsWith("unknown option '--prot'; options are [--host, --port"));
    }

    @Test
    void flagWithoutValue_isRefused() {
        var e = assertThrows(ServerConfigParser.ConfigException.class,
                () -> ServerConfigParser.parse(List.of("--port"), Map.of()));
        assertEquals("option --port needs a value", e.getMessage());
    }
}
