package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's memory-access option: which JDKs get it, that {@code ./gantry} gives the server what
 * {@link MachineDefaults} names, and that a server started with those options has Netty on Unsafe and says so
 * (start-up line, {@code GET /admin/v1/server}), while a later opt-out on the command line wins.
 */
class BufferAccessTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "JDK {0}: {1}")
    @CsvSource({"21, ''", "22, ''", "23, --sun-misc-unsafe-memory-access=allow",
            "25, --sun-misc-unsafe-memory-access=allow", "30, --sun-misc-unsafe-memory-access=allow"})
    void memoryAccessOptions_areGivenFromJdk23On(int feature, String expected) {
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), MachineDefaults.memoryAccessOptions(feature));
    }

    @Test
    void launcher_givesTheServerTheOptionsMachineDefaultsNames() throws Exception {
        assertEquals(MachineDefaults.launcherOptions(Runtime.version().feature()), LauncherProbe.launcherOptions());
    }

    @Test
    void aServerWithTheLauncherOptions_usesUnsafe_withoutTheJdkWarning_andSaysSo() throws Exception {
        try (ChildServer server = start(LauncherProbe.launcherOptions())) {
            JsonNode access = bufferAccess(server);
            assertTrue(access.path("unsafe").asBoolean(), access.toString());
            assertTrue(access.path("reason").isNull(), access.toString());
            assertTrue(server.output().contains("; Netty buffers through sun.misc.Unsafe"), server.output());
            assertFalse(server.output().contains("sun.misc.Unsafe::"), "the JDK warned about Unsafe:\n"
                    + server.output());
        }
    }

    @Test
    void anOptOutLaterOnTheCommandLine_wins_andTheServerSaysWhy() throws Exception {
        List<String> options = new ArrayList<>(LauncherProbe.launcherOptions());
        options.add("-Dio.netty.noUnsafe=true"); // where GANTRY_JAVA_OPTS go
        try (ChildServer server = start(options)) {
            JsonNode access = bufferAccess(server);
            assertFalse(access.path("unsafe").asBoolean(), access.toString());
            assertTrue(access.path("reason").asText().contains("io.netty.noUnsafe"), access.toString());
            assertTrue(server.output().contains("; Netty buffers through checked ByteBuffer access ("),
                    server.output());
            assertTrue(server.output().contains(MachineDefaults.UNSAFE_MEMORY_ACCESS + " allows Unsafe"),
                    server.output());
        }
    }

    private ChildServer start(List<String> jvmOptions) throws Exception {
        return LauncherProbe.start(dir, "data", jvmOptions);
    }

    private static JsonNode bufferAccess(ChildServer server) throws Exception {
        return LauncherProbe.sizing(server).path("buffer_access");
    }
}
