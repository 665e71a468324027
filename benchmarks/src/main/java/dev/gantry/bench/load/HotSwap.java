package dev.gantry.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The hot swap + rollback scenario: open-loop load on one model for a steady window, then for a window in which
 * its traffic moves step by step from the version serving it to another loaded version and is rolled back to
 * where it started, through Gantry's admin API ({@code docs/admin-api.md}).
 */
final class HotSwap {
    /*
     * Every step is valid whatever the previous one did: both versions are READY from the start (the model's
     * version policy loads all), the traffic policies only route READY versions, and the rollback names the
     * revision read before the first step rather than "the previous one". The steps are sent one interval
     * apart, the first half an interval into the swap window; the window ends one interval after the rollback,
     * so requests routed by the restored policy are part of it. Admin calls go over their own connection
     * (java.net.http), never through the load generator's pool.
     */
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The number of admin steps in the swap window; the window lasts one interval more than this many. */
    static final int STEPS = 4;

    /** One admin call: when it was sent (seconds into the swap window), what, its status and wall time. */
    record Call(double atSeconds, String what, int status, double millis, String answer) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /**
     * What the scenario observed.
     *
     * @param rate the open-loop arrival rate of both windows, requests/s
     * @param from the version serving all traffic at the start
     * @param to the version traffic was moved to
     * @param calls every admin call, in order; the last is the rollback
     * @param error why the scenario could not run as planned, if it could not
     */
    record Result(String model, double rate, String from, String to, Measurement steady, Measurement swap,
                  List<Call> calls, Optional<String> error, Window steadyWindow, Window swapWindow) {
        Result {
            calls = List.copyOf(calls);
        }

        Result(String model, double rate, String from, String to, Measurement steady, Measurement swap,
               List<Call> calls, Optional<String> error) {
            this(model, rate, from, to, steady, swap, calls, error, Window.NONE, Window.NONE);
        }

        /** Wall time of the rollback call in ms, NaN when it was not made. */
        double rollbackMillis() {
            return calls.stream().filter(c -> c.what().startsWith("POST rollback")).mapToDouble(Call::millis)
                    .findFirst().orElse(Double.NaN);
        }

        /** Whether every admin call succeeded and nothing stopped the scenario. */
        boolean valid() {
            return error.isEmpty() && !calls.isEmpty() && calls.stream().allMatch(Call::ok);
        }
    }

    /**
     * What else a window saw: the server's and the generator's CPU over it (empty when not read), and its slices of
     * {@link #SLICE} with the slowest requests.
     */
    record Window(String load, List<Timeline.Slice> slowest) {
        static final Window NONE = new Window("", List.of());

        Window {
            slowest = List.copyOf(slowest);
        }
    }

    /** The slices a window's timeline is cut into. */
    static final Duration SLICE = Duration.ofMillis(100);
    /** How many of a window's slowest slices the report names. */
    static final int SLOWEST = 5;

    private final URI base;
    private final String model;
    private final long serverPid;
    private final GeneratorLoad generator;
    private final HttpClient admin = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** @param base the server, e.g. {@code http://127.0.0.1:8080} */
    HotSwap(URI base, String model) {
        this(base, model, -1, null);
    }

    /**
     * @param serverPid the server's process, whose CPU each window reports; -1 for none
     * @param generator the load generator's own load, reported per window; null for none
     */
    HotSwap(URI base, String model, long serverPid, GeneratorLoad generator) {
        this.base = base;
        this.model = model;
        this.serverPid = serverPid;
        this.generator = generator;
    }

    /**
     * Runs the steady window, then the swap window, both open loop at {@code rate}.
     *
     * @param interval the time between admin steps; the swap window lasts {@code (STEPS + 1) x interval}
     */
    Result run(HttpLoadGenerator gen, LoadRequest request, double rate, Duration steadyWindow, Duration interval)
            throws InterruptedException {
        JsonNode start;
        try {
            start = get();
        } catch (IOException | RuntimeException e) {
            return failed(rate, "GET /admin/v1/models/" + model + " failed: " + e);
        }
        return run(start, gen, request, rate, steadyWindow, interval);
    }

    /**
     * Uses the admin client once and builds (without sending) each kind of admin request, so that the classes
     * they need are loaded before the windows; call before the server's warm-up. Why: the first use of
     * java.net.http just before the steady window loaded enough classes to cross the generator's Metaspace
     * threshold, and G1's cycle for it (a remark, the heap shrunk from 560 to 68 MB, mixed collections of 24-26
     * ms and young ones every 0.2 s until it grew back) fell on the steady window's first second: its first
     * 100 ms slices read means of 34-250 ms against 1-3 ms later (5 runs of the hot swap arm, 12-04). Moved to
     * just before the open-loop warm-up, the shrunken heap left that warm-up with p99s of 0.8-1.5 s and dropped
     * requests, and two of four steady windows fell 1.2 s behind at +9 s; before the closed-loop warm-up, the
     * heap has its 45 s and the closed-loop sweep to grow back.
     *
     * @return the model as the server describes it, read at the start of the steady window again by {@link #run}
     */
    JsonNode prepare() throws IOException, InterruptedException {
        JsonNode model = get();
        for (Step step : steps("1", "2", 1)) {
            request(step);
        }
        return model;
    }

    private Result run(JsonNode start, HttpLoadGenerator gen, LoadRequest request, double rate,
                       Duration steadyWindow, Duration interval) throws InterruptedException {
        long revision = start.path("revision").asLong(-1);
        String from = primary(start.path("policy").path("routes"));
        String to = null;
        for (JsonNode v : start.path("versions")) {
            if (!v.path("version").asText().equals(from) && v.path("state").asText().equals("READY")) {
                to = v.path("version").asText();
            }
        }
        if (revision < 0 || from == null || to == null) {
            return failed(rate, "needs a model with two READY versions and a traffic policy; the server said "
                    + start);
        }
        Timeline steadyTimeline = new Timeline(steadyWindow, SLICE);
        Probe steadyProbe = probe();
        Measurement steady = gen.openLoop(request, rate, steadyWindow, () -> { }, steadyTimeline);
        Window steadyDetail = steadyProbe.end(steady, steadyTimeline);

        List<Call> calls = Collections.synchronizedList(new ArrayList<>());
        List<Step> steps = steps(from, to, revision);
        long origin = System.nanoTime();
        String target = to;
        Thread driver = Thread.ofPlatform().name("hot-swap-admin").start(() -> {
            try {
                for (int i = 0; i < steps.size(); i++) {
                    long due = origin + interval.toNanos() / 2 + i * interval.toNanos();
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(Duration.ofNanos(wait));
                    }
                    Call c = call(steps.get(i), origin);
                    calls.add(c);
                    System.out.printf(Locale.ROOT, "[hot swap] %+.1f s %s -> %d in %.1f ms%n", c.atSeconds(),
                            c.what(), c.status(), c.millis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Duration swapWindow = interval.multipliedBy(STEPS + 1);
        Timeline swapTimeline = new Timeline(swapWindow, SLICE);
        Probe swapProbe = probe();
        Measurement swap = gen.openLoop(request, rate, swapWindow, () -> { }, swapTimeline);
        Window swapDetail = swapProbe.end(swap, swapTimeline);
        driver.join();
        Optional<String> error = Optional.empty();
        try {
            String now = primary(get().path("policy").path("routes"));
            if (!from.equals(now)) {
                error = Optional.of("after the rollback version " + now + " takes the traffic, not " + from);
            }
        } catch (IOException | RuntimeException e) {
            error = Optional.of("could not read the policy after the rollback: " + e);
        }
        return new Result(model, rate, from, target, steady, swap, calls, error, steadyDetail, swapDetail);
    }

    /** The readings at a window's start. */
    private Probe probe() {
        ServerCpu server = null;
        if (serverPid > 0) {
            try {
                server = ServerCpu.of(serverPid);
            } catch (IOException | RuntimeException e) {
                server = null;
            }
        }
        return new Probe(server, generator == null ? null : generator.now());
    }

    private final class Probe {
        private final ServerCpu server;
        private final GeneratorLoad.Snapshot gen;

        Probe(ServerCpu server, GeneratorLoad.Snapshot gen) {
            this.server = server;
            this.gen = gen;
        }

        /** The window's load from this start to now, and its slowest slices. */
        Window end(Measurement m, Timeline timeline) {
            List<String> parts = new ArrayList<>();
            if (server != null) {
                try {
                    ServerCpu after = ServerCpu.of(serverPid);
                    if (after != null) {
                        parts.add(describe(server, after, m));
                    }
                } catch (IOException | RuntimeException e) {
                    // the server's CPU is not reported for this window
                }
            }
            if (gen != null) {
                parts.add(GeneratorLoad.describe(gen, generator.now(), generator.cpus()));
            }
            return new Window(String.join("; ", parts), timeline.slowest(SLOWEST));
        }
    }

    /**
     * "the server used 38.2 us of CPU per answer (JIT 0.3%, kernel 10.1 us, event loop 25.0 us)", from the two
     * samples' clock ticks ({@link ServerCpu#microsPerAnswer}).
     */
    static String describe(ServerCpu before, ServerCpu after, Measurement m) {
        return String.format(Locale.ROOT, "the server used %.1f us of CPU per answer (JIT %.1f%%, kernel %.1f us, "
                        + "event loop %.1f us)", ServerCpu.microsPerAnswer(after.totalTicks() - before.totalTicks(), m),
                after.jitShareSince(before) * 100,
                ServerCpu.microsPerAnswer(after.systemTicks() - before.systemTicks(), m),
                ServerCpu.microsPerAnswer(after.eventLoopTicks() - before.eventLoopTicks(), m));
    }

    private Result failed(double rate, String why) {
        return new Result(model, rate, "", "", null, null, List.of(), Optional.of(why));
    }

    /** An admin request: method, path below {@code /admin/v1/models/{model}}, JSON body (or empty). */
    record Step(String method, String path, String body) {
        String describe() {
            return method + " " + path.substring(1) + (body.isEmpty() ? "" : " " + body);
        }
    }

    /** Traffic from {@code from} to {@code to} in 10/50/100 % steps, then back to {@code startRevision}. */
    static List<Step> steps(String from, String to, long startRevision) {
        return List.of(
                traffic(from, 90, to, 10),
                traffic(from, 50, to, 50),
                traffic(from, 0, to, 100),
                new Step("POST", "/rollback", "{\"to_revision\":" + startRevision + "}"));
    }

    private static Step traffic(String a, int wa, String b, int wb) {
        String routes = wa == 0 ? "{\"version\":\"" + b + "\",\"weight\":" + wb + "}"
                : "{\"version\":\"" + a + "\",\"weight\":" + wa + "},{\"version\":\"" + b + "\",\"weight\":" + wb + "}";
        return new Step("PUT", "/traffic", "{\"routes\":[" + routes + "],\"reason\":\"benchmark hot swap\"}");
    }

    private HttpRequest request(Step step) {
        HttpRequest.BodyPublisher body = step.body().isEmpty() ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(step.body());
        return HttpRequest.newBuilder(base.resolve("/admin/v1/models/" + model + step.path()))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .method(step.method(), body).build();
    }

    private Call call(Step step, long origin) throws InterruptedException {
        HttpRequest request = request(step);
        long t0 = System.nanoTime();
        double at = (t0 - origin) / 1e9;
        try {
            HttpResponse<String> r = admin.send(request, HttpResponse.BodyHandlers.ofString());
            return new Call(at, step.describe(), r.statusCode(), (System.nanoTime() - t0) / 1e6,
                    abbreviate(r.body()));
        } catch (IOException e) {
            return new Call(at, step.describe(), 0, (System.nanoTime() - t0) / 1e6, e.toString());
        }
    }

    private JsonNode get() throws IOException, InterruptedException {
        HttpResponse<String> r = admin.send(HttpRequest.newBuilder(base.resolve("/admin/v1/models/" + model))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("status " + r.statusCode() + ": " + abbreviate(r.body()));
        }
        return JSON.readTree(r.body());
    }

    /** The version with the highest weight, or null. */
    private static String primary(JsonNode routes) {
        String best = null;
        long weight = -1;
        for (JsonNode route : routes) {
            if (route.path("weight").asLong() > weight) {
                weight = route.path("weight").asLong();
                best = route.path("version").asText();
            }
        }
        return best;
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ').replace('|', '/');
        return one.length() <= 160 ? one : one.substring(0, 157) + "...";
    }
}
