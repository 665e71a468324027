package dev.gantry.bench.load;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One server configuration under test, started as a child JVM. {@code args} may hold the placeholders
 * {@code {host}}, {@code {port}}, {@code {grpcPort}}, {@code {models}} and {@code {data}} (a scratch directory for
 * server state).
 *
 * @param name the arm's name in reports
 * @param description what the arm is, one line
 * @param mainClass the server's main class, on the benchmark's own classpath
 * @param args the server's arguments
 * @param workloads what this server is driven with
 * @param ready the log line that says the server has loaded every model and listens
 * @param scenario what the benchmark does with the server
 */
public record ServerArm(String name, String description, String mainClass, List<String> args,
                        List<Workload> workloads, Pattern ready, Scenario scenario) {
    /** What an arm is put through once its server is up. */
    public enum Scenario {
        /** Per workload: warm-up, closed-loop sweep, open-loop runs at fractions of its own and direct's max. */
        SWEEP,
        /**
         * Warm-up, closed-loop sweep, then open loop at half the max for a steady window and for a window in
         * which traffic moves between model versions and is rolled back ({@link HotSwap}).
         */
        HOT_SWAP
    }

    /** Gantry's server main class; the Gantry arms are skipped when it is not on the classpath. */
    public static final String GANTRY_MAIN = "dev.gantry.http.Main";

    private static final List<String> SERVER_FLAGS = List.of("--host", "{host}", "--port", "{port}",
            "--models", "{models}", "--intra-op-threads", "1", "--event-loops", "1");
    /** What every Gantry arm adds: its state directory and its gRPC port. */
    private static final List<String> GANTRY_FLAGS = List.of("serve", "--data", "{data}", "--grpc-port", "{grpcPort}");

    /*
     * The arms, in the order they run. The direct-call server runs first so the Gantry arms can also be driven
     * at the direct server's reference rates, giving latency ratios at equal offered load.
     *
     * The direct-call server also serves the 600 KB JSON workload (it takes any FP32 input), so its resident memory
     * after the run (target 16.4) is measured after the same kinds of work as gantry-batching's: a 600 KB body
     * fills a 384 MB heap in a way the MLP and MiniLM requests never do. The binary extension it does not speak.
     *
     * The hot swap arm is a Gantry server of its own (batching on, only the classifier loaded), so its admin
     * calls change nothing the other arms measure.
     */
    public static List<ServerArm> all() {
        return List.of(
                new ServerArm("direct", "DirectCallServer: Vert.x + one ORT session.run per request on a worker pool",
                        "dev.gantry.bench.direct.DirectCallServer",
                        concat(SERVER_FLAGS, List.of("--model", "mlp", "--model", "minilm", "--model", "minilm-q",
                                "--model", "identity_fp32", "--workers", "2")),
                        List.of(Workload.MLP, Workload.MINILM_16, Workload.MINILM_128, Workload.MINILM_Q_16,
                                Workload.LARGE_JSON),
                        Pattern.compile("DirectCallServer ready on http://"), Scenario.SWEEP),
                Issue16Arms.ceiling(),
                new ServerArm("gantry-batching", "Gantry, dynamic batching as configured per model",
                        GANTRY_MAIN, concat(GANTRY_FLAGS, SERVER_FLAGS),
                        List.of(Workload.MLP, Workload.MLP_BINARY, Workload.MLP_GRPC, Workload.MINILM_16,
                                Workload.MINILM_128, Workload.MINILM_Q_16, Workload.LARGE_JSON, Workload.LARGE_BINARY,
                                Workload.EMBEDDINGS),
                        Pattern.compile("Gantry ready on http://"), Scenario.SWEEP),
                Issue16Arms.accessLog(),
                new ServerArm("gantry-tracing", "Gantry, dynamic batching, every request traced (server, queue, "
                        + "batch and run spans) and exported over OTLP/HTTP to a sink in the harness",
                        GANTRY_MAIN, concat(concat(List.of("serve", "--data", "{data}"), SERVER_FLAGS),
                                List.of("--otlp-endpoint", "{otlp}")),
                        List.of(Workload.MLP, Workload.MINILM_16),
                        Pattern.compile("Gantry ready on http://"), Scenario.SWEEP),
                new ServerArm("gantry-no-batching", "Gantry --no-batching: one request per execution",
                        GANTRY_MAIN, concat(concat(GANTRY_FLAGS, SERVER_FLAGS),
                                List.of("--no-batching")),
                        List.of(Workload.MLP, Workload.MINILM_16, Workload.MINILM_128, Workload.EMBEDDINGS),
                        Pattern.compile("Gantry ready on http://"), Scenario.SWEEP),
                IsolationArm.arm(concat(GANTRY_FLAGS, SERVER_FLAGS)),
                new ServerArm("gantry-hotswap", "Gantry, batching on: traffic shifted between versions 2 and 1 "
                        + "and rolled back under open-loop load", GANTRY_MAIN,
                        concat(GANTRY_FLAGS, SERVER_FLAGS),
                        List.of(Workload.CLASSIFIER),
                        Pattern.compile("Gantry ready on http://"), Scenario.HOT_SWAP));
    }

    /** The models the server must find in its repository when driven with {@code selected}. */
    public java.util.Set<String> models(List<Workload> selected) {
        java.util.Set<String> models = new java.util.TreeSet<>();
        selected.forEach(w -> models.add(w.model()));
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--model")) {
                models.add(args.get(i + 1));
            }
        }
        return models;
    }

    public List<String> argsFor(String host, int port, int grpcPort, String models, String data) {
        return args.stream().map(a -> a.replace("{host}", host).replace("{port}", Integer.toString(port))
                .replace("{grpcPort}", Integer.toString(grpcPort)).replace("{models}", models)
                .replace("{data}", data))
                .map(a -> a.equals("{otlp}") ? OtlpSink.endpoint() : a).toList();
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
