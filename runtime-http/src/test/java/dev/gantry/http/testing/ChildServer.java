package dev.gantry.http.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A Gantry server in a child JVM on a free loopback port; its merged stdout and stderr are collected. */
public final class ChildServer implements AutoCloseable {
    public final Process process;
    public final int port;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private ChildServer(Process process, int port) {
        this.process = process;
        this.port = port;
        Thread.ofPlatform().daemon(true).name("child-output-" + port).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output read failed: " + e + ")");
            }
        });
    }

    /** Starts {@code gantry serve} on {@code models} and {@code data} with the access log off. */
    public static ChildServer start(Path models, Path data) throws IOException {
        return start(models, data, List.of(), java.util.Map.of());
    }

    /** As {@link #start(Path, Path)} with more flags and environment variables. */
    public static ChildServer start(Path models, Path data, List<String> flags, java.util.Map<String, String> env)
            throws IOException {
        return start(models, data, flags, env, List.of());
    }

    /** As {@link #start(Path, Path, List, java.util.Map)} with more JVM options, after the fixed ones. */
    public static ChildServer start(Path models, Path data, List<String> flags, java.util.Map<String, String> env,
                                    List<String> jvmOptions) throws IOException {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), "--enable-native-access=ALL-UNNAMED",
                // as ./gantry serve does: a JVM crash report goes to the data directory
                "-XX:ErrorFile=" + data.toAbsolutePath().resolve("crash").resolve("hs_err_pid%p.log"),
                "-XX:-CreateCoredumpOnCrash");
        pb.command().addAll(jvmOptions);
        pb.command().addAll(List.of("dev.gantry.http.Main", "serve", "--port", Integer.toString(port),
                "--models", models.toString(), "--data", data.toString(), "--access-log", "off", "--grpc-port", "0"));
        pb.command().addAll(flags);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        return new ChildServer(pb.start(), port);
    }

    public String output() {
        return String.join("\n", lines);
    }

    /** Waits (up to 90 s) until a line of output contains {@code text}; fails if the process dies first. */
    public void awaitOutput(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (lines.stream().noneMatch(l -> l.contains(text))) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("no '" + text + "' from the server; output:\n" + output());
            }
            Thread.sleep(20);
        }
    }

    /** SIGTERM, then the exit status (fails after 60 s). */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("server did not exit within 60 s of SIGTERM; output:\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
