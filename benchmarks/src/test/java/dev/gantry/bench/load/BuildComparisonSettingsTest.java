package dev.gantry.bench.load;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BuildComparison's command line, as the standard run's alternating pairs and its users give it. */
class BuildComparisonSettingsTest {
    @Test
    void defaults_areTheDocumentedOnes() {
        BuildComparison.Settings s = BuildComparison.settings(new String[0]);
        assertEquals(4, s.rounds);
        assertEquals(Duration.ofSeconds(8), s.window);
        assertEquals(Duration.ofSeconds(20), s.warmup);
        assertArrayEquals(new int[] {16, 1}, s.levels);
        assertEquals(Workload.MLP, s.workload);
        assertNull(s.baseArm);
        assertEquals(0, s.inprocBatch);
        assertEquals(List.of("--event-loops", "1", "--intra-op-threads", "1"), s.serverArgs);
    }

    @Test
    void pairOptions_parse() {
        BuildComparison.Settings s = BuildComparison.settings(new String[] {"--base-inproc-batch", "32", "--workload",
                "minilm-s16", "--levels", "64,16", "--rounds", "6", "--seconds", "15", "--warmup-seconds", "45",
                "--server-args", " --event-loops 2  --intra-op-threads 1 ", "--this-jvm-opt", "-Xmx1g"});
        assertEquals(32, s.inprocBatch);
        assertEquals(Workload.MINILM_16, s.workload);
        assertArrayEquals(new int[] {64, 16}, s.levels);
        assertEquals(6, s.rounds);
        assertEquals(Duration.ofSeconds(15), s.window);
        assertEquals(Duration.ofSeconds(45), s.warmup);
        assertEquals(List.of("--event-loops", "2", "--intra-op-threads", "1"), s.serverArgs);
        assertEquals(List.of("-Xmx1g"), s.thisJvm);
        assertEquals("direct", BuildComparison.settings(new String[] {"--base-arm", "direct"}).baseArm.name());
    }

    @Test
    void extraModels_parse_andAMissingOneIsRefusedBeforeAnythingStarts(@org.junit.jupiter.api.io.TempDir
                                                                        java.nio.file.Path models) throws Exception {
        java.nio.file.Files.createDirectories(models.resolve("minilm").resolve("1"));
        BuildComparison.Settings s = BuildComparison.settings(new String[] {"--base-arm", "direct", "--models",
                models.toString(), "--this-extra-model", "minilm", "--this-extra-model", "no-such-model",
                "--this-extra-model", "minilm"});
        assertEquals(List.of("minilm", "no-such-model"), s.thisExtraModels);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuildComparison.compare(s));
        assertTrue(e.getMessage().startsWith("--this-extra-model 'no-such-model': "), e.getMessage());
    }

    @Test
    void openRate_parses_andIsRefusedAgainstTheInProcessSideBeforeAnythingStarts() {
        assertEquals(10259.5, BuildComparison.settings(new String[] {"--open-rate", "10259.5"}).openRate);
        BuildComparison.Settings s = BuildComparison.settings(new String[] {"--open-rate", "9000",
                "--base-inproc-batch", "32"});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuildComparison.compare(s));
        assertTrue(e.getMessage().contains("--open-rate"), e.getMessage());
        BuildComparison.Settings negative = BuildComparison.settings(new String[] {"--open-rate", "-1",
                "--base-arm", "direct"});
        assertThrows(IllegalArgumentException.class, () -> BuildComparison.compare(negative));
    }

    @Test
    void environmentForOneServer_parses_andBadOrMisplacedOnesAreRefused() {
        BuildComparison.Settings s = BuildComparison.settings(new String[] {"--this-env",
                "MALLOC_MMAP_THRESHOLD_=131072", "--this-env", "X_EMPTY=", "--base-env", "MALLOC_ARENA_MAX=2"});
        assertEquals(java.util.Map.of("MALLOC_MMAP_THRESHOLD_", "131072", "X_EMPTY", ""), s.thisEnv);
        assertEquals(java.util.Map.of("MALLOC_ARENA_MAX", "2"), s.baseEnv);
        for (String bad : List.of("NOEQUALS", "=1", "1X=2", "A-B=3")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BuildComparison.settings(new String[] {"--this-env", bad}));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        BuildComparison.Settings arm = BuildComparison.settings(new String[] {"--base-arm", "direct", "--base-env",
                "MALLOC_ARENA_MAX=2"});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuildComparison.compare(arm));
        assertTrue(e.getMessage().contains("--base-env"), e.getMessage());
        BuildComparison.Settings inproc = BuildComparison.settings(new String[] {"--base-inproc-batch", "32",
                "--base-env", "MALLOC_ARENA_MAX=2"});
        e = assertThrows(IllegalArgumentException.class, () -> BuildComparison.compare(inproc));
        assertTrue(e.getMessage().contains("--base-env"), e.getMessage());
    }

    @Test
    void badOptions_areRefusedWithTheirName() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> BuildComparison.settings(new String[] {"--bogus"}));
        assertTrue(unknown.getMessage().contains("'--bogus'"), unknown.getMessage());
        IllegalArgumentException arm = assertThrows(IllegalArgumentException.class,
                () -> BuildComparison.settings(new String[] {"--base-arm", "gantry-batching"}));
        assertTrue(arm.getMessage().contains("'gantry-batching'"), arm.getMessage());
        IllegalArgumentException opt = assertThrows(IllegalArgumentException.class,
                () -> BuildComparison.settings(new String[] {"--this-jvm-opt", "Xmx1g"}));
        assertTrue(opt.getMessage().contains("'Xmx1g'"), opt.getMessage());
    }

    @Test
    void serverJvm_isTheLauncherOptionsThenTheHeap_lessTheJitOptionsWhenAsked() {
        List<String> launcher = dev.gantry.http.sizing.MachineDefaults.launcherOptions(Runtime.version().feature());
        List<String> with = BuildComparison.serverJvm(true, "-Xmx384m");
        assertEquals(launcher, with.subList(0, launcher.size()));
        assertEquals(List.of("-Xmx384m"), with.subList(launcher.size(), with.size()));
        List<String> without = BuildComparison.serverJvm(false, "-Xmx384m");
        assertTrue(dev.gantry.http.sizing.MachineDefaults.JIT_OPTIONS.stream().noneMatch(without::contains),
                without.toString());
        assertTrue(without.contains("--enable-native-access=ALL-UNNAMED"), without.toString());
        assertEquals(with.size() - dev.gantry.http.sizing.MachineDefaults.JIT_OPTIONS.size(), without.size());
    }

    @Test
    void aWindowsFailedRequests_areShownByKindForEachSide_andNothingWithoutAny() {
        Measurement clean = window(0, java.util.Map.of());
        Measurement refused = window(45, java.util.Map.of("client-backlog", 40L, "503", 5L));

        assertEquals("", BuildComparison.errors(clean, clean));
        assertEquals("; failed requests: base 0 {}, this 45 {503=5, client-backlog=40}",
                BuildComparison.errors(clean, refused));
        assertEquals("; failed requests: base 45 {503=5, client-backlog=40}, this 0 {}",
                BuildComparison.errors(refused, clean));
    }

    private static Measurement window(long errors, java.util.Map<String, Long> kinds) {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3);
        h.recordValue(100);
        return new Measurement("open", 1000, 0, 10, 100, 100 - errors, errors, kinds, h, h, 0, java.util.Map.of());
    }
}
