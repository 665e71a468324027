package dev.gantry.http.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code gantry rollout start|status|pause|resume|promote|abort}: rollouts from the command line, with a live
 * progress view ({@code status --watch}) that redraws in the terminal until the rollout ends.
 */
public final class RolloutCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String USAGE = """
            Usage:
              gantry rollout start MODEL PLAN.json                    start a rollout (see docs/rollouts.md)
              gantry rollout status MODEL [ID] [--watch] [--every 1s] a rollout's state, step, time left, gates
              gantry rollout pause|resume|promote|abort MODEL ID
            Options: --url URL (default $GANTRY_URL or http://127.0.0.1:8080), --key TOKEN (default $GANTRY_KEY).
            """;

    private RolloutCommand() {
    }

    /** Runs {@code gantry rollout ARGS}; returns the exit code. */
    public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(args);
        if (rest.isEmpty() || rest.contains("--help") || rest.contains("-h")) {
            out.print(USAGE);
            return rest.isEmpty() ? 2 : 0;
        }
        String sub = rest.remove(0);
        try {
            String url = AdminCommand.take(rest, "--url", env.getOrDefault("GANTRY_URL", "http://127.0.0.1:8080"));
            String key = AdminCommand.take(rest, "--key", env.get("GANTRY_KEY"));
            boolean watch = rest.remove("--watch");
            long every = parseMillis(AdminCommand.take(rest, "--every", "1s"));
            Client c = new Client(url, key);
            switch (sub) {
                case "start" -> {
                    need(rest, 2, "start takes MODEL PLAN.json");
                    JsonNode v = c.send("POST", "/admin/v1/models/" + rest.get(0) + "/rollouts",
                            Files.readString(Path.of(rest.get(1))));
                    out.println(render(v));
                }
                case "pause", "resume", "promote", "abort" -> {
                    need(rest, 2, sub + " takes MODEL ID");
                    out.println(render(c.send("POST", "/admin/v1/models/" + rest.get(0) + "/rollouts/" + rest.get(1)
                            + "/" + sub, "")));
                }
                case "status" -> {
                    if (rest.isEmpty() || rest.size() > 2) {
                        throw new IllegalArgumentException("status takes MODEL [ID]");
                    }
                    String model = rest.get(0);
                    String id = rest.size() == 2 ? rest.get(1) : null;
                    while (true) {
                        JsonNode v = id != null ? c.send("GET", "/admin/v1/models/" + model + "/rollouts/" + id, null)
                                : latest(c.send("GET", "/admin/v1/models/" + model + "/rollouts", null), model);
                        id = v.path("id").asText();
                        if (watch) {
                            out.print("\033[H\033[2J");
                        }
                        out.println(render(v));
                        out.flush();
                        String state = v.path("state").asText();
                        if (!watch || !(state.equals("RUNNING") || state.equals("PAUSED") || state.equals("PENDING"))) {
                            break;
                        }
                        Thread.sleep(every);
                    }
                }
                default -> throw new IllegalArgumentException("unknown rollout command '" + sub + "'");
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("gantry rollout " + sub + ": " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Failed e) {
            err.println("gantry rollout " + sub + ": " + e.getMessage());
            return 1;
        } catch (java.net.ConnectException e) {
            err.println("gantry rollout " + sub + ": cannot connect to the server; is it running? Set --url or GANTRY_URL");
            return 1;
        } catch (Exception e) {
            err.println("gantry rollout " + sub + ": " + e);
            return 1;
        }
    }

    /** The progress view: one header line, the step and shares, one line per gate. */
    static String render(JsonNode v) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "rollout %s of %s: version %s against %s, %s%n", v.path("id").asText(),
                v.path("model").asText(), v.path("candidate").asText(), v.path("baseline").asText(),
                v.path("state").asText()));
        JsonNode s = v.path("current_step");
        String share = s.has("shadow_percent") ? "shadow " + s.path("shadow_percent").asInt() + "%"
                : "weight " + s.path("weight").asInt() + "% (baseline " + (100 - s.path("weight").asInt()) + "%)";
        b.append(String.format(Locale.ROOT, "step %d/%d: %s, %.1f s left, min %d candidate requests%n",
                v.path("step").asInt(), v.path("steps_total").asInt(), share, v.path("time_left_ms").asLong() / 1000.0,
                s.path("min_requests").asLong()));
        JsonNode a = v.path("analysis");
        if (a.isObject()) {
            b.append(String.format(Locale.ROOT, "requests: candidate %d (%d errors), baseline %d (%d errors)%n",
                    a.path("candidate_requests").asLong(), a.path("candidate_errors").asLong(),
                    a.path("baseline_requests").asLong(), a.path("baseline_errors").asLong()));
            for (JsonNode g : a.path("gates")) {
                b.append(String.format(Locale.ROOT, "  %-10s %-7s %s%n", g.path("name").asText(),
                        g.path("verdict").asText(), g.path("detail").asText()));
            }
        }
        if (!v.path("reason").asText().isEmpty()) {
            b.append("last decision: ").append(v.path("reason").asText()).append('\n');
        }
        return b.toString().stripTrailing();
    }

    private static JsonNode latest(JsonNode list, String model) {
        JsonNode all = list.path("rollouts");
        if (all.isEmpty()) {
            throw new Failed("model '" + model + "' has no rollouts");
        }
        return all.get(all.size() - 1);
    }

    private static long parseMillis(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.matches("\\d{1,9}ms")) {
            return Long.parseLong(t.substring(0, t.length() - 2));
        }
        if (t.matches("\\d{1,6}s")) {
            return 1000 * Long.parseLong(t.substring(0, t.length() - 1));
        }
        throw new IllegalArgumentException("--every must look like 500ms or 2s, was '" + s + "'");
    }

    private static void need(List<String> rest, int n, String message) {
        if (rest.size() != n) {
            throw new IllegalArgumentException(message);
        }
    }

    private static final class Failed extends RuntimeException {
        Failed(String message) {
            super(message, null, false, false);
        }
    }

    private record Client(String url, String key) {
        JsonNode send(String method, String path, String body) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            if (key != null && !key.isBlank()) {
                b.header("Authorization", "Bearer " + key);
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode n = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 400) {
                throw new Failed(r.statusCode() + " " + (n.has("error") ? n.get("error").asText() : r.body()));
            }
            return n;
        }
    }
}
