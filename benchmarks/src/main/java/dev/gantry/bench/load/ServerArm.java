package dev.gantry.bench.load;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One server configuration under test, started as a child JVM. {@code args} may hold the placeholders
 * {@code {host}}, {@code {port}}, {@code {models}} and {@code {data}} (a scratch directory for server state).
 *
 * @param name the arm's name in reports
 * @param description what the arm is, one line
 * @param mainClass the server's main class, on the benchmark's own classpath
 * @param args the server's arguments
 * @param workloads what this server is driven with
 * @param ready the log line that says the server has loaded every model and listens
 */
public record ServerArm(String name, String description, String mainClass, List<String> args,
                        List<Workload> workloads, Pattern ready) {
    /** Gantry's server main class; the Gantry arms are skipped when it is not on the classpath. */
    public static final String GANTRY_MAIN = "dev.gantry.http.Main";

    private static final List<String> SERVER_FLAGS = List.of("--host", "{host}", "--port", "{port}",
            "--models", "{models}", "--intra-op-threads", "1", "--event-loops", "1");

    /*
     * The arms, in the order they run. The direct-call server runs first so the Gantry arms can also be driven
     * at the direct server's reference rates, giving latency ratios at equal offered load.
     *
     * An arm that needs a scenario other than "warm up, closed-loop sweep, open-loop sweep" - the hot swap and
     * rollback arm, which must send admin calls while an open loop runs at 50% of the max rate - adds a
     * ServerArm here and a branch in LoadBenchmark.runArm; it needs Gantry's admin API, which does not exist yet.
     */
    public static List<ServerArm> all() {
        return List.of(
                new ServerArm("direct", "DirectCallServer: Vert.x + one ORT session.run per request on a worker pool",
                        "dev.gantry.bench.direct.DirectCallServer",
                        concat(SERVER_FLAGS, List.of("--model", "mlp", "--model", "minilm", "--model", "minilm-q",
                                "--workers", "2")),
                        List.of(Workload.MLP, Workload.MINILM_16, Workload.MINILM_128, Workload.MINILM_Q_16),
                        Pattern.compile("DirectCallServer ready on http://")),
                new ServerArm("gantry-batching", "Gantry, dynamic batching as configured per model",
                        GANTRY_MAIN, concat(List.of("serve", "--data", "{data}"), SERVER_FLAGS),
                        List.of(Workload.values()),
                        Pattern.compile("Gantry ready on http://")),
                new ServerArm("gantry-no-batching", "Gantry --no-batching: one request per execution",
                        GANTRY_MAIN, concat(concat(List.of("serve", "--data", "{data}"), SERVER_FLAGS),
                                List.of("--no-batching")),
                        List.of(Workload.MLP, Workload.MINILM_16, Workload.MINILM_128),
                        Pattern.compile("Gantry ready on http://")));
    }

    public List<String> argsFor(String host, int port, String models, String data) {
        return args.stream().map(a -> a.replace("{host}", host).replace("{port}", Integer.toString(port))
                .replace("{models}", models).replace("{data}", data)).toList();
    }

    /** Whether the main class is on this classpath. */
    public boolean available() {
        try {
            Class.forName(mainClass, /* initialize= */ false, ServerArm.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
