package dev.gantry.bench.load;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The arms issue 16 added to the load benchmark: the HTTP ceiling, and Gantry with its access log on (to
 * measure what the log costs against {@code gantry-batching}, whose log is off by default).
 */
final class Issue16Arms {
    static final String CEILING = "ceiling";
    static final String ACCESS_LOG = "gantry-access-log";

    private Issue16Arms() {
    }

    /** A Vert.x server answering the MLP's canned body without parsing or running anything. */
    static ServerArm ceiling() {
        return new ServerArm(CEILING, "CeilingServer: Vert.x answering a canned MLP body (no parsing, no model): "
                + "the HTTP ceiling", "dev.gantry.bench.ceiling.CeilingServer",
                List.of("--host", "{host}", "--port", "{port}", "--event-loops", "1"),
                List.of(Workload.MLP), Pattern.compile("CeilingServer ready on http://"), ServerArm.Scenario.SWEEP);
    }

    /** gantry-batching with one JSON access-log line per request to stdout (the harness's server log file). */
    static ServerArm accessLog() {
        return new ServerArm(ACCESS_LOG, "Gantry as gantry-batching, with --access-log stdout (a JSON line per "
                + "request, into the server's log file)", ServerArm.GANTRY_MAIN,
                List.of("serve", "--data", "{data}", "--grpc-port", "{grpcPort}", "--host", "{host}", "--port",
                        "{port}", "--models", "{models}", "--intra-op-threads", "1", "--event-loops", "1",
                        "--access-log", "stdout"),
                List.of(Workload.MLP), Pattern.compile("Gantry ready on http://"), ServerArm.Scenario.SWEEP);
    }
}
