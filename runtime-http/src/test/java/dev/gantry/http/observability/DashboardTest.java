package dev.gantry.http.observability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboard (docker/grafana/dashboards/gantry.json) over a real server: every metric its PromQL
 * names is in /metrics once the server has served requests (a shadow copy and a quota refusal included), and
 * every query parses, checked by Prometheus's own promtool on a rules file made of the dashboard's queries.
 * promtool comes from Debian's prometheus package (.ci/run installs it); without it, and outside CI, the
 * parse check is skipped and says so.
 */
class DashboardTest {
    static final Path DOCKER = Path.of("..", "docker");
    static final Path DASHBOARD = DOCKER.resolve("grafana").resolve("dashboards").resolve("gantry.json");
    static final String MODEL = "dash";
    /** PromQL words that are not metric names: functions, aggregations, modifiers, keywords. */
    static final Set<String> PROMQL_WORDS = Set.of("sum", "avg", "min", "max", "count", "by", "without", "on",
            "ignoring", "group_left", "group_right", "rate", "irate", "increase", "histogram_quantile", "and", "or",
            "unless", "bool", "offset", "topk", "bottomk", "quantile", "abs", "clamp_min", "clamp_max", "delta",
            "deriv", "label_replace", "vector", "scalar", "time", "inf", "nan");

    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(dir.resolve("models"))
                .copy("mlp", MODEL, 1, "{\"max_batch_size\": 64, \"dynamic_batching\": {},"
                        + " \"version_policy\": {\"specific\": {\"versions\": [1]}}}")
                .copy("mlp", MODEL, 2, null);
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve("quotas.json"), "{\"default\": {\"requests_per_day\": 3}}");
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        assertEquals(200, server.postJson("/admin/v1/models/" + MODEL + "/versions/2/load", "{}").statusCode());
        HttpResponse<String> policy = server.send(HttpRequest.newBuilder(server.uri("/admin/v1/models/" + MODEL
                        + "/traffic")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"routes\":[{\"version\":1,\"weight\":100}],"
                        + "\"shadow\":[{\"version\":2,\"percent\":100}]}")).build());
        assertEquals(200, policy.statusCode(), policy.body());
        for (int i = 0; i < 3; i++) {
            assertEquals(200, server.postJson("/v2/models/" + MODEL + "/infer", TracingTest.mlpBody(2, i)).statusCode());
        }
        assertEquals(429, server.postJson("/v2/models/" + MODEL + "/infer", TracingTest.mlpBody(1, 9)).statusCode());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void everyMetricTheDashboardQueries_isExportedByARunningServer() throws Exception {
        Set<String> wanted = new TreeSet<>();
        for (String expr : queries()) {
            wanted.addAll(metricNames(expr));
        }
        assertTrue(wanted.size() >= 15, "the dashboard names only " + wanted);
        Set<String> missing = new TreeSet<>(wanted);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            missing.removeAll(exported());
            // shadow copies are answered after the primary: their counter may appear a moment later
            if (missing.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(Set.of(), missing, "metrics the dashboard queries that /metrics does not have");
    }

    @Test
    void metricNames_areTheSelectorsOfAQuery_notItsFunctionsLabelsOrVariables() {
        assertEquals(Set.of("a_total", "b_bucket"), metricNames("sum by (model, le) (rate(a_total{model=~\"$model\","
                + " kind!=\"x y\"}[$__rate_interval])) / ignoring(version) group_left histogram_quantile(0.9,"
                + " b_bucket[5m])"));
    }

    @Test
    void everyQuery_parsesAsPromQL() throws Exception {
        Assumptions.assumeTrue(promtool() || System.getenv("CI") != null,
                "promtool is not installed (apt-get install prometheus), so the dashboard's queries were not parsed");
        StringBuilder rules = new StringBuilder("groups:\n  - name: gantry-dashboard\n    rules:\n");
        int n = 0;
        for (String expr : queries()) {
            String concrete = expr.replace("$__rate_interval", "1m").replace("$model", ".+");
            rules.append("      - record: gantry_dashboard:query_").append(n++).append("\n        expr: '")
                    .append(concrete.replace("'", "''")).append("'\n");
        }
        Path file = dir.resolve("dashboard-rules.yml");
        Files.writeString(file, rules);
        String out = run("promtool", "check", "rules", file.toString());
        assertTrue(out.contains("SUCCESS: " + n + " rules found"), out);
    }

    @Test
    void prometheusConfig_isValid() throws Exception {
        Assumptions.assumeTrue(promtool() || System.getenv("CI") != null,
                "promtool is not installed (apt-get install prometheus), so prometheus.yml was not checked");
        String out = run("promtool", "check", "config", DOCKER.resolve("prometheus").resolve("prometheus.yml").toString());
        assertTrue(out.contains("SUCCESS"), out);
    }

    @Test
    void composeFile_mountsTheProvisioningThatExists() throws IOException {
        String compose = Files.readString(DOCKER.resolve("compose.yaml"));
        Matcher m = Pattern.compile("- (\\./[^:]+):").matcher(compose);
        List<String> mounts = new ArrayList<>();
        while (m.find()) {
            mounts.add(m.group(1));
        }
        assertEquals(4, mounts.size(), compose);
        for (String mount : mounts) {
            assertTrue(Files.exists(DOCKER.resolve(mount)), mount + " is mounted by compose.yaml but does not exist");
        }
        String datasource = Files.readString(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml"));
        for (JsonNode target : Bodies.parse(Files.readString(DASHBOARD)).findValues("datasource")) {
            if (target.has("uid")) {
                assertTrue(datasource.contains("uid: " + target.path("uid").asText()), "unknown datasource " + target);
            }
        }
    }

    /** The PromQL of every panel target and templating query. */
    static List<String> queries() throws IOException {
        JsonNode dash = Bodies.parse(Files.readString(DASHBOARD));
        List<String> out = new ArrayList<>();
        for (JsonNode expr : dash.findValues("expr")) {
            out.add(expr.asText());
        }
        assertFalse(out.isEmpty(), "no queries in " + DASHBOARD);
        return out;
    }

    /**
     * The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
     * grouping lists, numbers and variables are removed, minus function names and keywords.
     */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\w+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
        while (m.find()) {
            if (m.group(2) == null && !PROMQL_WORDS.contains(m.group(1))) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    static Set<String> exported() {
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        Set<String> names = new TreeSet<>();
        for (String line : r.body().split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    static boolean promtool() {
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(p, "promtool"))) {
                return true;
            }
        }
        return false;
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
