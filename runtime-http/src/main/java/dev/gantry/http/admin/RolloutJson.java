package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.rollout.Analysis;
import dev.gantry.core.rollout.GateSettings;
import dev.gantry.core.rollout.RolloutPlan;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.core.rollout.Step;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.Durations;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/** The JSON of rollout plans (read) and rollouts (written). */
final class RolloutJson {
    private static final Set<String> TOP = Set.of("candidate", "baseline", "steps", "gates");
    private static final Set<String> STEP = Set.of("shadow_percent", "weight", "duration", "min_requests");
    private static final Set<String> GATES = Set.of("min_sample", "interim_z", "final_z", "max_p99_ratio",
            "max_p50_ratio", "latency_slack", "min_agreement", "min_throughput_ratio");

    private RolloutJson() {
    }

    /** @throws GantryException INVALID_ARG naming the field that is missing, unknown or out of range */
    static RolloutPlan plan(JsonNode body) {
        unknown(body, TOP, "");
        long candidate = AdminBodies.integer(body.get("candidate"), "candidate");
        OptionalLong baseline = body.hasNonNull("baseline")
                ? OptionalLong.of(AdminBodies.integer(body.get("baseline"), "baseline")) : OptionalLong.empty();
        JsonNode steps = body.get("steps");
        if (steps == null || !steps.isArray() || steps.isEmpty()) {
            throw GantryException.invalid("'steps' must be a non-empty array of steps");
        }
        try {
            List<Step> out = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                out.add(step(steps.get(i), i));
            }
            return new RolloutPlan(candidate, baseline, out, gates(body.get("gates")));
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    private static Step step(JsonNode n, int i) {
        String at = "steps[" + i + "]";
        if (n == null || !n.isObject()) {
            throw GantryException.invalid("'" + at + "' must be an object");
        }
        unknown(n, STEP, at + ".");
        boolean shadow = n.has("shadow_percent");
        boolean weight = n.has("weight");
        if (shadow == weight) {
            throw GantryException.invalid("'" + at + "' needs exactly one of shadow_percent or weight");
        }
        long percent = shadow ? AdminBodies.integer(n.get("shadow_percent"), at + ".shadow_percent")
                : AdminBodies.integer(n.get("weight"), at + ".weight");
        Duration duration = Duration.ZERO;
        if (n.has("duration")) {
            duration = duration(n.get("duration"), at + ".duration");
        } else if (!(weight && percent == 100)) {
            throw GantryException.invalid("'" + at + ".duration' is required");
        }
        long min = n.has("min_requests") ? AdminBodies.integer(n.get("min_requests"), at + ".min_requests") : 0;
        return Step.of(i, shadow ? Step.Kind.SHADOW : Step.Kind.WEIGHT, percent, duration, min);
    }

    private static GateSettings gates(JsonNode n) {
        GateSettings d = GateSettings.DEFAULTS;
        if (n == null || n.isNull()) {
            return d;
        }
        if (!n.isObject()) {
            throw GantryException.invalid("'gates' must be an object");
        }
        unknown(n, GATES, "gates.");
        return new GateSettings(
                n.has("min_sample") ? AdminBodies.integer(n.get("min_sample"), "gates.min_sample") : d.minSample(),
                number(n, "interim_z", d.interimZ()), number(n, "final_z", d.finalZ()),
                number(n, "max_p99_ratio", d.maxP99Ratio()), number(n, "max_p50_ratio", d.maxP50Ratio()),
                n.has("latency_slack") ? duration(n.get("latency_slack"), "gates.latency_slack") : d.latencySlack(),
                number(n, "min_agreement", d.minAgreement()),
                number(n, "min_throughput_ratio", d.minThroughputRatio()));
    }

    private static double number(JsonNode n, String field, double dflt) {
        JsonNode v = n.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw GantryException.invalid("'gates." + field + "' must be a number, was " + v);
        }
        return v.asDouble();
    }

    /** "2m", "45s", "1500ms" or ISO-8601. */
    static Duration duration(JsonNode n, String field) {
        if (n == null || !n.isTextual()) {
            throw GantryException.invalid("'" + field + "' must be a duration string like \"2m\", \"45s\" or "
                    + "\"1500ms\", was " + n);
        }
        String t = n.asText().trim();
        if (t.matches("\\d{1,12}ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        try {
            return Durations.parse(t);
        } catch (GantryException e) {
            throw GantryException.invalid("'" + field + "': " + e.getMessage());
        }
    }

    private static void unknown(JsonNode n, Set<String> known, String prefix) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw GantryException.invalid("unknown field '" + prefix + f + "'; known: " + known.stream().sorted()
                        .toList());
            }
        }
    }

    static ObjectNode write(Rollouts.View v) {
        ObjectNode o = Json.object();
        o.put("id", v.id());
        o.put("model", v.model());
        o.put("candidate", Long.toString(v.candidate()));
        o.put("baseline", Long.toString(v.baseline()));
        o.put("state", v.state().name());
        List<Step> steps = v.plan().analysed();
        o.put("step", v.stepIndex() + 1);
        o.put("steps_total", steps.size());
        Step s = v.step();
        ObjectNode cur = o.putObject("current_step");
        cur.put(s.kind() == Step.Kind.SHADOW ? "shadow_percent" : "weight", s.percent());
        cur.put("duration_ms", s.duration().toMillis());
        cur.put("min_requests", s.minRequests());
        o.put("time_left_ms", v.timeLeft().toMillis());
        o.put("reason", v.reason());
        o.put("created_at", v.createdAt().toString());
        o.put("created_by", v.createdBy());
        o.put("updated_at", v.updatedAt().toString());
        ArrayNode plan = o.putArray("plan");
        for (Step x : v.plan().steps()) {
            ObjectNode p = plan.addObject();
            p.put(x.kind() == Step.Kind.SHADOW ? "shadow_percent" : "weight", x.percent());
            p.put("duration_ms", x.duration().toMillis());
            p.put("min_requests", x.minRequests());
        }
        if (v.analysis().isPresent()) {
            Analysis a = v.analysis().get();
            ObjectNode an = o.putObject("analysis");
            an.put("replicas", v.analysisReplicas());
            an.put("candidate_offered", a.candidateOffered());
            an.put("candidate_requests", a.candidateRequests());
            an.put("candidate_errors", a.candidateErrors());
            an.put("baseline_offered", a.baselineOffered());
            an.put("baseline_requests", a.baselineRequests());
            an.put("baseline_errors", a.baselineErrors());
            an.put("error_z", a.errorZ());
            an.put("candidate_p50_ms", a.candidateP50Ms());
            an.put("candidate_p99_ms", a.candidateP99Ms());
            an.put("baseline_p50_ms", a.baselineP50Ms());
            an.put("baseline_p99_ms", a.baselineP99Ms());
            an.put("compared", a.compared());
            an.put("agreed", a.agreed());
            ArrayNode gates = an.putArray("gates");
            for (Analysis.Gate g : a.gates()) {
                ObjectNode x = gates.addObject();
                x.put("name", g.name());
                x.put("verdict", g.verdict().name());
                x.put("value", g.value());
                x.put("threshold", g.threshold());
                x.put("detail", g.detail());
            }
        } else {
            o.putNull("analysis");
        }
        return o;
    }
}
