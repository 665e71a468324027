package dev.gantry.core.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The JVM's fatal error reports ({@code hs_err_pid<pid>.log}): where Gantry asks for them to be written, and
 * what one says about how its process died.
 */
public final class CrashReports {
    /*
     * A JVM that takes a signal in native code (SIGFPE from an integer division by zero inside ONNX Runtime,
     * SIGSEGV from an out-of-range read) writes hs_err_pid<pid>.log and then aborts; with
     * -XX:-CreateCoredumpOnCrash it exits with status 1, otherwise it dies of SIGABRT, so the exit status alone
     * does not name the signal. The report's header does: "#  SIGFPE (0x8) at pc=...", followed by the
     * problematic frame ("# C  [libonnxruntime.so+0x5fc979]"). A process killed from outside (SIGKILL, the OOM
     * killer) writes no report at all, which is how the crash journal tells a crash from a kill.
     */
    private static final Pattern SIGNAL = Pattern.compile("^#\\s+(SIG[A-Z0-9]+) \\(0x[0-9a-fA-F]+\\)");
    private static final Pattern FRAME = Pattern.compile("^#\\s+[CVJj]\\s+\\[([^+\\]]+)");
    private static final int HEADER_LINES = 40;

    private CrashReports() {
    }

    /** The directory Gantry's processes write their reports to: {@code <data>/crash}. */
    public static Path directory(Path dataDir) {
        return dataDir.resolve("crash");
    }

    /** The {@code -XX:ErrorFile} option that sends a JVM's report to {@link #directory}. */
    public static String errorFileOption(Path dataDir) {
        return "-XX:ErrorFile=" + directory(dataDir).toAbsolutePath().normalize().resolve("hs_err_pid%p.log");
    }

    /**
     * The report of process {@code pid}, looked for in {@code <data>/crash}, then where a JVM started without
     * {@code -XX:ErrorFile} writes it: its working directory (taken to be ours) and the temporary directory.
     */
    public static Optional<Path> find(Path dataDir, long pid) {
        String name = "hs_err_pid" + pid + ".log";
        List<Path> candidates = new ArrayList<>();
        candidates.add(directory(dataDir).resolve(name));
        candidates.add(Path.of("").toAbsolutePath().resolve(name));
        candidates.add(Path.of(System.getProperty("java.io.tmpdir")).resolve(name));
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    /** What a report says about the fatal signal. */
    public record Fatal(String signal, Optional<String> library, Path report) {
        /** "SIGFPE in libonnxruntime.so". */
        public String describe() {
            return signal + library.map(l -> " in " + l).orElse("");
        }
    }

    /** Reads the signal and the problematic frame's library from the head of a report. */
    public static Fatal read(Path report) {
        String signal = "a fatal error";
        Optional<String> library = Optional.empty();
        try (Stream<String> lines = Files.lines(report, StandardCharsets.ISO_8859_1)) {
            for (String line : lines.limit(HEADER_LINES).toList()) {
                Matcher s = SIGNAL.matcher(line);
                if (s.find() && signal.equals("a fatal error")) {
                    signal = s.group(1);
                }
                Matcher f = FRAME.matcher(line);
                if (f.find() && library.isEmpty()) {
                    library = Optional.of(f.group(1).strip());
                }
            }
        } catch (IOException | UncheckedIOException e) {
            return new Fatal(signal, Optional.empty(), report);
        }
        return new Fatal(signal, library, report);
    }

    /**
     * The start of a command for a child JVM of this server (the sandbox, an isolation worker): the same java
     * binary and class path, native access, crash reports into {@code <dataDir>/crash} and no core dumps, the
     * serial collector (children are small), then {@code extraJvmOptions}.
     */
    public static java.util.List<String> childJvm(Path dataDir, String... extraJvmOptions) {
        java.util.List<String> c = new java.util.ArrayList<>();
        c.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add("--enable-native-access=ALL-UNNAMED");
        c.add(errorFileOption(dataDir));
        c.add("-XX:-CreateCoredumpOnCrash");
        c.add("-XX:+UseSerialGC");
        c.addAll(java.util.List.of(extraJvmOptions));
        return c;
    }
}
