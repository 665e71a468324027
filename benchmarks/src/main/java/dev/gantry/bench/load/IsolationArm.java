package dev.gantry.bench.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The process isolation arm: the same Gantry server as {@code gantry-batching}, but every model of its repository
 * executes in a worker process of its own ({@code "gantry": {"isolation": "process"}} written into each model's
 * {@code config.json}), and the report's comparison of the two on the MLP and the MiniLM.
 *
 * <p>One run that measures the cost of isolation (about 4 min):
 * <pre>
 * java -jar benchmarks/target/benchmarks-load.jar --arms gantry-batching,gantry-isolated \
 *     --workloads mlp,minilm-s16 --closed-only --warmup-seconds 30 --run-seconds 10
 * </pre>
 */
final class IsolationArm {
    /*
     * Both arms batch as the models configure it; the isolated one sends each batch over the worker's Unix
     * domain socket and the worker runs one batch at a time. The comparison uses the closed-loop sweep of each
     * arm: throughput at each client count, and the latency percentiles of those requests (service time; with
     * one client that is the round trip of a lone request, the figure isolation adds to every request).
     */
    static final String NAME = "gantry-isolated";
    static final String IN_PROCESS = "gantry-batching";
    private static final List<Workload> COMPARED = List.of(Workload.MLP, Workload.MINILM_16);

    private IsolationArm() {
    }

    /** The arm: Gantry with {@code flags}, on the MLP and MiniLM, its models isolated by {@link #isolate}. */
    static ServerArm arm(List<String> flags) {
        return new ServerArm(NAME, "Gantry, dynamic batching as configured, every model in a worker process"
                + " (gantry.isolation: process)", ServerArm.GANTRY_MAIN, flags, COMPARED,
                Pattern.compile("Gantry ready on http://"), ServerArm.Scenario.SWEEP);
    }

    /**
     * When {@code arm} is this arm, replaces the {@code config.json} of every model in {@code repo} (a link
     * into the real repository) by a copy that asks for process isolation; other arms are left alone.
     */
    static void prepare(ServerArm arm, Path repo) throws IOException {
        if (!arm.name().equals(NAME)) {
            return;
        }
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> models = Files.list(repo)) {
            for (Path model : models.filter(Files::isDirectory).toList()) {
                Path config = model.resolve("config.json");
                ObjectNode root = Files.exists(config) ? (ObjectNode) json.readTree(config.toFile())
                        : json.createObjectNode();
                ObjectNode gantry = root.has("gantry") ? (ObjectNode) root.get("gantry") : root.putObject("gantry");
                gantry.put("isolation", "process");
                /* Never write through the link: that would change the real repository. */
                Files.deleteIfExists(config);
                Files.writeString(config, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            }
        }
    }

    /**
     * A markdown section comparing this arm with the in-process one per workload and client count: req/s,
     * p50 and p99 of each, and isolated / in-process ratios; empty when the run lacks either arm.
     */
    static String comparison(List<ArmResult> results) {
        StringBuilder sb = new StringBuilder();
        for (Workload w : COMPARED) {
            List<Measurement> isolated = closed(results, NAME, w);
            List<Measurement> inProcess = closed(results, IN_PROCESS, w);
            if (isolated.isEmpty() || inProcess.isEmpty()) {
                continue;
            }
            if (sb.isEmpty()) {
                sb.append("## Cost of process isolation\n\n").append("Closed loop, same server flags: ")
                        .append(IN_PROCESS).append(" executes in the server process, ").append(NAME)
                        .append(" in one worker process per model over a Unix domain socket. Ratios are isolated /"
                                + " in-process (req/s below 1 and latency above 1 are the cost); errors are in-process / isolated.\n\n")
                        .append("| workload | clients | in-process req/s | isolated req/s | x | in-process p50 ms |"
                                + " isolated p50 ms | x | in-process p99 ms | isolated p99 ms | x | errors |\n")
                        .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            }
            for (Measurement base : inProcess) {
                Measurement iso = isolated.stream().filter(m -> m.concurrency() == base.concurrency()).findFirst()
                        .orElse(null);
                if (iso == null) {
                    continue;
                }
                sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s | %d / %d |%n",
                        w.label(), base.concurrency(), base.throughput(), iso.throughput(),
                        ratio(iso.throughput(), base.throughput()), ms(base.percentileMillis(50)),
                        ms(iso.percentileMillis(50)), ratio(iso.percentileMillis(50), base.percentileMillis(50)),
                        ms(base.percentileMillis(99)), ms(iso.percentileMillis(99)),
                        ratio(iso.percentileMillis(99), base.percentileMillis(99)), base.errors(), iso.errors()));
            }
        }
        return sb.isEmpty() ? "" : sb.append('\n').toString();
    }

    private static List<Measurement> closed(List<ArmResult> results, String arm, Workload w) {
        return results.stream().filter(r -> r.arm().equals(arm) && r.workload() == w
                        && r.measurement().mode().equals("closed"))
                .map(ArmResult::measurement).toList();
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v);
    }
}
