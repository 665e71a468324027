package dev.gantry.http.metrics;

import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The histogram buckets a scrape of /metrics shows for Gantry's latency, batch and lifecycle meters. */
class MetricsBucketsTest {
    private static final String MLP_SUCCESS = "error=\"none\",model=\"mlp\",outcome=\"success\",version=\"1\"";
    private static final String MLP = "model=\"mlp\",version=\"1\"";

    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @Test
    void latencyTimers_haveTheDocumentedBucketsFrom20MicrosecondsTo60Seconds() {
        infer(1);
        String text = scrape();
        for (String series : List.of("inference_request_duration_seconds{" + MLP_SUCCESS + "}",
                "inference_queue_duration_seconds{" + MLP + "}", "inference_compute_duration_seconds{" + MLP + "}")) {
            assertBucketsAndCounts(text, series, MetricsSetup.LATENCY_SECONDS);
        }
    }

    @Test
    void batchSummaries_haveSizeBuckets_andARequestOfThreeRowsLandsInTheBucketOfThree() {
        infer(1);
        String series = "inference_batch_size_rows{" + MLP + "}";
        Map<Double, Long> before = buckets(scrape(), series);
        infer(3);
        String text = scrape();
        Map<Double, Long> after = buckets(text, series);
        assertArrayEquals(MetricsSetup.BATCH_SIZES, finite(after), 0, series);
        assertCumulative(text, series, after);
        // one execution of three rows: counted from the bucket "<= 3" up, not in "<= 2"
        assertEquals(0, after.get(2.0) - before.get(2.0), "bucket le=2");
        assertEquals(1, after.get(3.0) - before.get(3.0), "bucket le=3");
        assertEquals(1, after.get(Double.POSITIVE_INFINITY) - before.get(Double.POSITIVE_INFINITY), "bucket +Inf");
        String requests = "inference_batch_requests{" + MLP + "}";
        assertArrayEquals(MetricsSetup.BATCH_SIZES, finite(buckets(text, requests)), 0, requests);
    }

    @Test
    void loadDuration_hasLifecycleBuckets() {
        assertBucketsAndCounts(scrape(), "model_load_duration_seconds{model=\"mlp\",outcome=\"success\","
                + "version=\"1\"}", MetricsSetup.LIFECYCLE_SECONDS);
    }

    /** A series' bounds are {@code expected} (seconds read back from the text, so within 1e-12) and it counts. */
    private static void assertBucketsAndCounts(String text, String series, double[] expected) {
        Map<Double, Long> buckets = buckets(text, series);
        assertArrayEquals(expected, finite(buckets), 1e-12, series);
        assertCumulative(text, series, buckets);
    }

    @Test
    void everyGantryHistogramUsesItsFixedBuckets_andNoOtherMeterHasBuckets() {
        infer(1);
        String text = scrape();
        Map<String, Integer> perSeries = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int at = line.indexOf("_bucket{");
            if (line.startsWith("#") || at < 0) {
                continue;
            }
            String labels = line.substring(at + "_bucket{".length(), line.lastIndexOf(",le=\""));
            perSeries.merge(line.substring(0, at) + "{" + labels + "}", 1, Integer::sum);
        }
        assertTrue(perSeries.size() >= 6, "histogram series: " + perSeries.keySet());
        for (Map.Entry<String, Integer> e : perSeries.entrySet()) {
            String name = e.getKey();
            int expected = name.startsWith("inference_batch_") ? MetricsSetup.BATCH_SIZES.length
                    : name.startsWith("inference_") ? MetricsSetup.LATENCY_SECONDS.length
                    : name.startsWith("model_") ? MetricsSetup.LIFECYCLE_SECONDS.length : -1;
            assertEquals(expected + 1, e.getValue(), "buckets (with +Inf) of " + name);
        }
    }

    @Test
    void buckets_areNamedOnlyForGantrysHistogramMeters() {
        assertNotNull(MetricsSetup.buckets("inference.request.duration"));
        assertNotNull(MetricsSetup.buckets("model.drain.duration"));
        assertNull(MetricsSetup.buckets("shadow.max_abs_diff"));
        assertNull(MetricsSetup.buckets("model.sandbox.runs"));
        assertNull(MetricsSetup.buckets("http.server.requests"));
    }

    private static void infer(int rows) {
        HttpResponse<String> r = server.postJson("/v2/models/mlp/infer", Bodies.fp32Request("features",
                new long[] {rows, 64}, Bodies.randomFloats(rows * 64, 5), null));
        assertEquals(200, r.statusCode(), r.body());
    }

    private static String scrape() {
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /**
     * The cumulative counts of one histogram series ({@code name{labels}} without the _bucket suffix), by upper
     * bound, in the order the scrape lists them.
     */
    private static Map<Double, Long> buckets(String text, String series) {
        int brace = series.indexOf('{');
        String prefix = series.substring(0, brace) + "_bucket{" + series.substring(brace + 1, series.length() - 1)
                + ",le=\"";
        Map<Double, Long> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                int close = line.indexOf('"', prefix.length());
                String le = line.substring(prefix.length(), close);
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                out.put(bound, (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        assertTrue(out.containsKey(Double.POSITIVE_INFINITY), "no buckets for " + series + " in:\n" + text);
        return out;
    }

    private static double[] finite(Map<Double, Long> buckets) {
        List<Double> bounds = new ArrayList<>(buckets.keySet());
        assertEquals(Double.POSITIVE_INFINITY, bounds.get(bounds.size() - 1), "+Inf comes last");
        return bounds.subList(0, bounds.size() - 1).stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Counts never fall from one bucket to the next, and +Inf holds every observation (the _count). */
    private static void assertCumulative(String text, String series, Map<Double, Long> buckets) {
        long previous = 0;
        for (long c : buckets.values()) {
            assertTrue(c >= previous, series + " " + buckets);
            previous = c;
        }
        int brace = series.indexOf('{');
        String countLine = series.substring(0, brace) + "_count" + series.substring(brace) + " ";
        String line = text.lines().filter(l -> l.startsWith(countLine)).findFirst().orElseThrow(
                () -> new AssertionError("no " + countLine));
        assertEquals((long) Double.parseDouble(line.substring(countLine.length())), previous, series);
        assertTrue(previous >= 1, series);
    }
}
