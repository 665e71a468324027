package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C heap's periodic trim: which JDKs get the option, that the launcher and the Docker image pass it, and that
 * a server says whether it trims (start-up line, {@code GET /admin/v1/server}), started with it or without.
 */
class NativeTrimTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "JDK {0}: {1}")
    @CsvSource({"21, ''", "22, -XX:TrimNativeHeapInterval=30000", "25, -XX:TrimNativeHeapInterval=30000"})
    void nativeTrimOptions_areGivenFromJdk22On(int feature, String expected) {
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), MachineDefaults.nativeTrimOptions(feature));
        assertEquals(!expected.isEmpty(),
                MachineDefaults.launcherOptions(feature).contains(MachineDefaults.NATIVE_TRIM));
    }

    @Test
    void launcherAndImage_passTheOption() throws Exception {
        // this JDK (25 in CI) accepts it, so the launcher's probe must print it
        List<String> launcher = LauncherProbe.launcherOptions();
        assertTrue(launcher.contains(MachineDefaults.NATIVE_TRIM), launcher.toString());
        String entrypoint = Files.readString(Path.of("..", "docker", "entrypoint.sh"));
        assertTrue(entrypoint.contains("if java " + MachineDefaults.NATIVE_TRIM + " -version"), entrypoint);
        assertTrue(entrypoint.contains("-XX:InlineSmallCode=1000 $trim $heap"), entrypoint);
    }

    @Test
    void aServerWithTheLauncherOptions_trims_andSaysSo_andOneWithoutSaysHowTo() throws Exception {
        try (ChildServer server = start("with", LauncherProbe.launcherOptions())) {
            JsonNode trim = reported(server);
            assertEquals(30000, trim.path("value").asLong(), trim.toString());
            assertEquals(30000, trim.path("derived").asLong(), trim.toString());
            assertFalse(trim.path("overridden").asBoolean(), trim.toString());
            assertTrue(server.output().contains("; C heap trimmed every 30000 ms"), server.output());
        }
        try (ChildServer server = start("without", List.of())) {
            JsonNode trim = reported(server);
            assertEquals(0, trim.path("value").asLong(), trim.toString());
            assertTrue(trim.path("overridden").asBoolean(), trim.toString());
            assertTrue(server.output().contains("; C heap not trimmed periodically (-XX:TrimNativeHeapInterval=30000"
                    + " would, as ./gantry does)"), server.output());
        }
    }

    @Test
    void anotherInterval_orAJvmWithoutTheOption_isDescribedAsSuch() {
        NativeTrim other = new NativeTrim(OptionalLong.of(1000));
        assertTrue(other.overridden());
        assertEquals("C heap trimmed every 1000 ms (set; the launcher's is 30000 ms)", other.describe());
        NativeTrim none = new NativeTrim(OptionalLong.empty());
        assertTrue(none.overridden());
        assertTrue(none.describe().startsWith("C heap not trimmed periodically (this JVM has no"), none.describe());
        assertFalse(new NativeTrim(OptionalLong.of(30000)).overridden());
    }

    private ChildServer start(String name, List<String> jvmOptions) throws Exception {
        return LauncherProbe.start(dir, "data-" + name, jvmOptions);
    }

    private static JsonNode reported(ChildServer server) throws Exception {
        return LauncherProbe.sizing(server).path("native_trim_interval_ms");
    }
}
