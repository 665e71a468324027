package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.metrics.ModelStatistics;
import dev.gantry.http.json.Json;

import java.util.List;

/** Model statistics in the JSON form of Triton's statistics extension. */
public final class StatisticsJson {
    private StatisticsJson() {
    }

    /** {@code {"model_stats": [...]}}, one entry per version. */
    public static ObjectNode render(List<ModelStatistics> versions) {
        ObjectNode root = Json.object();
        ArrayNode list = root.putArray("model_stats");
        for (ModelStatistics s : versions) {
            ObjectNode m = list.addObject();
            m.put("name", s.model().name());
            m.put("version", Long.toString(s.model().version()));
            m.put("last_inference", s.lastInferenceMillis());
            m.put("inference_count", s.inferenceCount());
            m.put("execution_count", s.executionCount());
            ObjectNode stats = m.putObject("inference_stats");
            duration(stats, "success", s.success());
            duration(stats, "fail", s.fail());
            duration(stats, "queue", s.queue());
            duration(stats, "compute_input", s.computeInput());
            duration(stats, "compute_infer", s.computeInfer());
            duration(stats, "compute_output", s.computeOutput());
            duration(stats, "cache_hit", ModelStatistics.Duration.ZERO);
            duration(stats, "cache_miss", ModelStatistics.Duration.ZERO);
            ArrayNode batches = m.putArray("batch_stats");
            for (ModelStatistics.BatchSize b : s.batches()) {
                ObjectNode batch = batches.addObject();
                batch.put("batch_size", b.batchSize());
                duration(batch, "compute_input", b.computeInput());
                duration(batch, "compute_infer", b.computeInfer());
                duration(batch, "compute_output", b.computeOutput());
            }
            m.putArray("memory_usage");
        }
        return root;
    }

    private static void duration(ObjectNode parent, String name, ModelStatistics.Duration d) {
        ObjectNode node = parent.putObject(name);
        node.put("count", d.count());
        node.put("ns", d.ns());
    }
}
