package dev.gantry.core.rollout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/** The text form of a plan in the rollout store: {@code steps=shadow:100:2000:500,weight:5:...;gates=...}. */
final class PlanCodec {
    private PlanCodec() {
    }

    static String encode(RolloutPlan p) {
        StringBuilder b = new StringBuilder("v1;candidate=").append(p.candidate()).append(";baseline=")
                .append(p.baseline().isPresent() ? Long.toString(p.baseline().getAsLong()) : "").append(";steps=");
        for (int i = 0; i < p.steps().size(); i++) {
            Step s = p.steps().get(i);
            b.append(i == 0 ? "" : ",").append(s.kind().name().toLowerCase(Locale.ROOT)).append(':').append(s.percent())
                    .append(':').append(s.duration().toMillis()).append(':').append(s.minRequests());
        }
        GateSettings g = p.gates();
        b.append(";gates=").append(g.minSample()).append(':').append(g.interimZ()).append(':').append(g.finalZ())
                .append(':').append(g.maxP99Ratio()).append(':').append(g.maxP50Ratio()).append(':')
                .append(g.latencySlack().toMillis()).append(':').append(g.minAgreement()).append(':')
                .append(g.minThroughputRatio());
        return b.toString();
    }

    /** @throws IllegalArgumentException when the text is not a plan this codec wrote */
    static RolloutPlan decode(String text) {
        String[] parts = text.split(";");
        if (parts.length != 5 || !parts[0].equals("v1")) {
            throw new IllegalArgumentException("not a stored rollout plan: " + text);
        }
        long candidate = Long.parseLong(value(parts[1], "candidate"));
        String base = value(parts[2], "baseline");
        List<Step> steps = new ArrayList<>();
        String[] ss = value(parts[3], "steps").split(",");
        for (int i = 0; i < ss.length; i++) {
            String[] f = ss[i].split(":");
            steps.add(Step.of(i, Step.Kind.valueOf(f[0].toUpperCase(Locale.ROOT)), Long.parseLong(f[1]),
                    Duration.ofMillis(Long.parseLong(f[2])), Long.parseLong(f[3])));
        }
        String[] g = value(parts[4], "gates").split(":");
        GateSettings gates = new GateSettings(Long.parseLong(g[0]), Double.parseDouble(g[1]),
                Double.parseDouble(g[2]), Double.parseDouble(g[3]), Double.parseDouble(g[4]),
                Duration.ofMillis(Long.parseLong(g[5])), Double.parseDouble(g[6]),
                // plans stored before the throughput gate have seven fields: they get its default
                g.length > 7 ? Double.parseDouble(g[7]) : GateSettings.DEFAULTS.minThroughputRatio());
        return new RolloutPlan(candidate, base.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(base)),
                steps, gates);
    }

    private static String value(String part, String key) {
        if (!part.startsWith(key + "=")) {
            throw new IllegalArgumentException("stored rollout plan: expected " + key + "=, was " + part);
        }
        return part.substring(key.length() + 1);
    }
}
