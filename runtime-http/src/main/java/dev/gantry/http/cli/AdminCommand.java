package dev.gantry.http.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code gantry models|load|unload|traffic|history|rollback}: the admin API from the command line. The server
 * is {@code --url} (or $GANTRY_URL, default http://127.0.0.1:8080); the key is {@code --key} (or $GANTRY_KEY).
 */
public final class AdminCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String USAGE = """
            Usage:
              gantry models [MODEL]                                   versions, states, policy, standby
              gantry load MODEL VERSION                               load a version (waits until READY)
              gantry unload MODEL VERSION                             drain and unload a version that takes no traffic
              gantry traffic MODEL VERSION=WEIGHT... [--shadow VERSION=PERCENT]... [--fallback VERSION] [--expect REVISION] [--reason TEXT]
              gantry history MODEL                                    every traffic revision, with time and key name
              gantry rollback MODEL [--to REVISION]                   back to the previous (or a named) revision
              gantry version MODEL VERSION                            a version's release record (stage, digest, approvals)
              gantry card MODEL VERSION [--file card.json]            show a model card, or merge-patch it from a file
              gantry request-approval|approve|reject|suspend|resume MODEL VERSION [--reason TEXT]
              gantry deprecate MODEL VERSION (--sunset ISO-INSTANT | --sunset-in 30d) [--successor V] [--reason TEXT]
              gantry catalog                                          every version: owner, stage, tier, approvals, share, flags
              gantry audit [--model M [--version V]] [--actor NAME] [--from T] [--to T] [--limit N]
              gantry audit verify                                     check the audit trail's hash chain (exit 1 if broken)
            Options: --url URL (default $GANTRY_URL or http://127.0.0.1:8080), --key TOKEN (default $GANTRY_KEY).
            """;

    private AdminCommand() {
    }

    /** Runs {@code command} with {@code args}; returns the exit code. */
    public static int run(String command, List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(args);
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        try {
            String url = take(rest, "--url", env.getOrDefault("GANTRY_URL", "http://127.0.0.1:8080"));
            String key = take(rest, "--key", env.get("GANTRY_KEY"));
            HttpRequest request = switch (command) {
                case "models" -> get(url, rest.isEmpty() ? "/admin/v1/models" : "/admin/v1/models/" + one(rest));
                case "history" -> get(url, "/admin/v1/models/" + one(rest) + "/traffic/history");
                case "load", "unload" -> {
                    if (rest.size() != 2) {
                        throw new IllegalArgumentException(command + " takes MODEL VERSION");
                    }
                    yield post(url, "/admin/v1/models/" + rest.get(0) + "/versions/" + rest.get(1) + "/" + command, "");
                }
                case "traffic" -> traffic(url, rest);
                case "version" -> {
                    if (rest.size() != 2) {
                        throw new IllegalArgumentException("version takes MODEL VERSION");
                    }
                    yield get(url, "/admin/v1/models/" + rest.get(0) + "/versions/" + rest.get(1));
                }
                case "card" -> {
                    String file = take(rest, "--file", null);
                    if (rest.size() != 2) {
                        throw new IllegalArgumentException("card takes MODEL VERSION");
                    }
                    String path = "/admin/v1/models/" + rest.get(0) + "/versions/" + rest.get(1) + "/card";
                    yield file == null ? get(url, path) : HttpRequest.newBuilder(URI.create(url + path))
                            .header("Content-Type", "application/merge-patch+json")
                            .method("PATCH", HttpRequest.BodyPublishers.ofFile(java.nio.file.Path.of(file))).build();
                }
                case "request-approval", "approve", "reject", "suspend", "resume", "deprecate" -> {
                    ObjectNode body = JSON.createObjectNode();
                    String reason = take(rest, "--reason", null);
                    if (reason != null) {
                        body.put("reason", reason);
                    }
                    if (command.equals("deprecate")) {
                        String sunset = take(rest, "--sunset", null);
                        String sunsetIn = take(rest, "--sunset-in", null);
                        String successor = take(rest, "--successor", null);
                        if (sunset != null) {
                            body.put("sunset", sunset);
                        }
                        if (sunsetIn != null) {
                            body.put("sunset_in", sunsetIn);
                        }
                        if (successor != null) {
                            body.put("successor", Long.parseLong(successor));
                        }
                    }
                    if (rest.size() != 2) {
                        throw new IllegalArgumentException(command + " takes MODEL VERSION");
                    }
                    yield post(url, "/admin/v1/models/" + rest.get(0) + "/versions/" + rest.get(1) + "/" + command,
                            body.toString());
                }
                case "catalog" -> get(url, "/admin/v1/catalog");
                case "audit" -> {
                    if (rest.size() == 1 && rest.get(0).equals("verify")) {
                        rest.clear();
                        yield get(url, "/admin/v1/audit/verify");
                    }
                    StringBuilder q = new StringBuilder();
                    for (String f : List.of("model", "version", "actor", "from", "to", "limit")) {
                        String v = take(rest, "--" + f, null);
                        if (v != null) {
                            q.append(q.isEmpty() ? "?" : "&").append(f).append('=')
                                    .append(java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8));
                        }
                    }
                    if (!rest.isEmpty()) {
                        throw new IllegalArgumentException("unexpected arguments " + rest);
                    }
                    yield get(url, "/admin/v1/audit" + q);
                }
                case "rollback" -> {
                    String to = take(rest, "--to", null);
                    ObjectNode body = JSON.createObjectNode();
                    if (to != null) {
                        body.put("to_revision", Long.parseLong(to));
                    }
                    yield post(url, "/admin/v1/models/" + one(rest) + "/rollback", body.toString());
                }
                default -> throw new IllegalArgumentException("unknown command '" + command + "'");
            };
            HttpRequest.Builder b = HttpRequest.newBuilder(request, (n, v) -> true).timeout(Duration.ofMinutes(5));
            if (key != null && !key.isBlank()) {
                b.header("Authorization", "Bearer " + key);
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
            if (r.statusCode() >= 400) {
                err.println("gantry " + command + ": " + r.statusCode() + " " + (body.has("error")
                        ? body.get("error").asText() : r.body()));
                return 1;
            }
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
            if (command.equals("audit") && body.has("ok") && !body.get("ok").asBoolean()) {
                err.println("gantry audit verify: the audit trail is broken at entry "
                        + body.path("first_broken").asText() + ": " + body.path("problem").asText());
                return 1;
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("gantry " + command + ": " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (java.net.ConnectException e) {
            err.println("gantry " + command + ": cannot connect to the server (" + e.getMessage() + "); is it running?"
                    + " Set --url or GANTRY_URL");
            return 1;
        } catch (Exception e) {
            err.println("gantry " + command + ": " + e);
            return 1;
        }
    }

    private static HttpRequest traffic(String url, List<String> rest) {
        List<String> shadows = new ArrayList<>();
        String s;
        while ((s = take(rest, "--shadow", null)) != null) {
            shadows.add(s);
        }
        String expect = take(rest, "--expect", null);
        String reason = take(rest, "--reason", null);
        String fallback = take(rest, "--fallback", null);
        if (rest.size() < 2) {
            throw new IllegalArgumentException("traffic takes MODEL and at least one VERSION=WEIGHT");
        }
        ObjectNode body = JSON.createObjectNode();
        ArrayNode routes = body.putArray("routes");
        for (String pair : rest.subList(1, rest.size())) {
            String[] kv = split(pair);
            routes.addObject().put("version", kv[0]).put("weight", Long.parseLong(kv[1]));
        }
        ArrayNode shadow = body.putArray("shadow");
        for (String pair : shadows) {
            String[] kv = split(pair);
            shadow.addObject().put("version", kv[0]).put("percent", Long.parseLong(kv[1]));
        }
        if (fallback != null) {
            body.put("fallback", fallback);
        }
        if (expect != null) {
            body.put("expected_revision", Long.parseLong(expect));
        }
        if (reason != null) {
            body.put("reason", reason);
        }
        return HttpRequest.newBuilder(URI.create(url + "/admin/v1/models/" + rest.get(0) + "/traffic"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
    }

    private static String[] split(String pair) {
        String[] kv = pair.split("=", 2);
        if (kv.length != 2 || !kv[1].matches("\\d+")) {
            throw new IllegalArgumentException("expected VERSION=NUMBER, got '" + pair + "'");
        }
        return kv;
    }

    private static HttpRequest get(String url, String path) {
        return HttpRequest.newBuilder(URI.create(url + path)).GET().build();
    }

    private static HttpRequest post(String url, String path, String body) {
        return HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static String one(List<String> rest) {
        if (rest.size() != 1) {
            throw new IllegalArgumentException("expected one MODEL argument, got " + rest);
        }
        return rest.get(0);
    }

    /** Removes {@code flag VALUE} (or {@code flag=VALUE}) from {@code args} and returns VALUE, else {@code fallback}. */
    static String take(List<String> args, String flag, String fallback) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(flag)) {
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                String v = args.get(i + 1);
                args.remove(i);
                args.remove(i);
                return v;
            }
            if (args.get(i).startsWith(flag + "=")) {
                return args.remove(i).substring(flag.length() + 1);
            }
        }
        return fallback;
    }
}
