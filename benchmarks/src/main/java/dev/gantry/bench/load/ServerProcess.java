package dev.gantry.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** A server under test, running as a child JVM (optionally pinned to CPUs) whose output goes to a log file. */
public final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code java jvmArgs -cp classpath mainClass args}, pinned with {@code taskset -c cpus} when
     * {@code cpus} is not empty, and waits until its output matches {@code ready}.
     *
     * @throws IllegalStateException when the process exits or stays silent past {@code timeout}; the message
     *     ends with the log's tail
     */
    public static ServerProcess start(String cpus, List<String> jvmArgs, String mainClass, List<String> args,
                                      Path log, Pattern ready, Duration timeout)
            throws IOException, InterruptedException {
        return start(cpus, jvmArgs, System.getProperty("java.class.path"), mainClass, args, log, ready, timeout);
    }

    /** As {@link #start(String, List, String, List, Path, Pattern, Duration)}, from another class path (a build). */
    public static ServerProcess start(String cpus, List<String> jvmArgs, String classpath, String mainClass,
                                      List<String> args, Path log, Pattern ready, Duration timeout)
            throws IOException, InterruptedException {
        return start(cpus, jvmArgs, classpath, mainClass, args, java.util.Map.of(), log, ready, timeout);
    }

    /** As above, with {@code env} added to the environment the process inherits (e.g. glibc's MALLOC_ settings). */
    public static ServerProcess start(String cpus, List<String> jvmArgs, String classpath, String mainClass,
                                      List<String> args, java.util.Map<String, String> env, Path log, Pattern ready,
                                      Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command(cpus, jvmArgs, classpath, mainClass, args));
        builder.environment().putAll(env);
        Process p = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        /* A benchmark stopped with Ctrl-C or SIGTERM must not leave its server running on the pinned CPU. */
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(p::destroy));
        ServerProcess server = new ServerProcess(p, log);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ready.matcher(Files.readString(log)).find()) {
                return server;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException(mainClass + " exited with " + p.exitValue() + " before it was ready:\n"
                        + server.tail());
            }
            Thread.sleep(100);
        }
        server.close();
        throw new IllegalStateException(mainClass + " printed no line matching '" + ready + "' within " + timeout
                + ":\n" + server.tail());
    }

    /** The command line of a child JVM running {@code mainClass}, pinned to {@code cpus} unless that is empty. */
    static List<String> command(String cpus, List<String> jvmArgs, String classpath, String mainClass,
                                List<String> args) {
        List<String> command = new ArrayList<>();
        if (!cpus.isEmpty()) {
            command.addAll(List.of("taskset", "-c", cpus));
        }
        command.add(javaExecutable());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classpath, mainClass));
        command.addAll(args);
        return command;
    }

    static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The last lines of the log. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log " + log + " unreadable: " + e + ")";
        }
    }

    /** Asks the process to stop (SIGTERM), and kills it if it is still running 15 s later. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
