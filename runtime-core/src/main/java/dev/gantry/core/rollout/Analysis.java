package dev.gantry.core.rollout;

import dev.gantry.core.metrics.VersionStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The live analysis of one step: the candidate's and baseline's numbers over the step's window and each gate's
 * verdict on them.
 */
public record Analysis(long candidateOffered, long candidateRequests, long candidateErrors, long baselineOffered,
                       long baselineRequests, long baselineErrors,
                       double errorZ, double candidateP50Ms, double candidateP99Ms, double baselineP50Ms,
                       double baselineP99Ms, long compared, long agreed, List<Gate> gates) {

    /** Requests each side needs before the p99 is judged. */
    public static final long P99_MIN_SAMPLE = 1000;

    /** A gate's verdict. */
    public enum Verdict { PASS, FAIL, WAITING }

    /** One gate: its value, the threshold it is held to and why it says what it says. */
    public record Gate(String name, Verdict verdict, double value, double threshold, String detail) {
    }

    /** Computes the gates over a window; {@code finalLook} when the step's time is up. */
    public static Analysis of(VersionStats.Counts candidate, VersionStats.Counts baseline, boolean shadowStep,
                              GateSettings g, boolean finalLook) {
        List<Gate> gates = new ArrayList<>();
        long nc = candidate.requests();
        long nb = baseline.requests();
        double z = ErrorRule.z(candidate.errors(), nc, baseline.errors(), nb);
        double zBound = finalLook ? g.finalZ() : g.interimZ();
        boolean sampled = nc >= g.minSample() && nb >= g.minSample();
        String rates = String.format(Locale.ROOT, "candidate %d/%d errors, baseline %d/%d", candidate.errors(), nc,
                baseline.errors(), nb);
        gates.add(new Gate("error_rate", !sampled ? Verdict.WAITING
                : ErrorRule.fails(candidate.errors(), nc, baseline.errors(), nb, g, finalLook) ? Verdict.FAIL
                : Verdict.PASS, round(z), zBound, rates + String.format(Locale.ROOT, ", z=%.2f vs %.2f", z, zBound)));

        double c50 = candidate.percentileMillis(0.5);
        double c99 = candidate.percentileMillis(0.99);
        double b50 = baseline.percentileMillis(0.5);
        double b99 = baseline.percentileMillis(0.99);
        double slack = g.latencySlack().toNanos() / 1e6;
        // A p99 from fewer than P99_MIN_SAMPLE requests is little more than the largest one, which one
        // scheduling pause decides; until both sides have that many, latency is judged on p50 alone.
        boolean tailSampled = nc >= P99_MIN_SAMPLE && nb >= P99_MIN_SAMPLE;
        Verdict lat;
        if (!sampled) {
            lat = Verdict.WAITING;
        } else if (c50 > g.maxP50Ratio() * b50 + slack || (tailSampled && c99 > g.maxP99Ratio() * b99 + slack)) {
            lat = Verdict.FAIL;
        } else {
            lat = Verdict.PASS;
        }
        gates.add(new Gate("latency", lat, b99 > 0 ? round(c99 / b99) : 0, g.maxP99Ratio(), String.format(Locale.ROOT,
                "p50 %.2f ms vs %.2f ms (max x%.2f + %.0f ms), p99 %.2f ms vs %.2f ms (max x%.2f + %.0f ms%s)",
                c50, b50, g.maxP50Ratio(), slack, c99, b99, g.maxP99Ratio(), slack,
                tailSampled ? "" : ", not judged below " + P99_MIN_SAMPLE + " requests each side")));

        if (!shadowStep) {
            gates.add(throughput(candidate, baseline, g, zBound));
        }

        if (shadowStep) {
            long n = candidate.compared();
            long k = candidate.agreed();
            double upper = ErrorRule.wilsonUpper(k, n, zBound);
            Verdict v = n < g.minSample() ? Verdict.WAITING : upper < g.minAgreement() ? Verdict.FAIL : Verdict.PASS;
            gates.add(new Gate("agreement", v, n == 0 ? 1 : round((double) k / n), g.minAgreement(),
                    String.format(Locale.ROOT, "%d/%d shadow answers agree, upper bound %.4f vs %.4f", k, n, upper,
                            g.minAgreement())));
        }
        return new Analysis(candidate.offered(), nc, candidate.errors(), baseline.offered(), nb, baseline.errors(),
                round(z), c50, c99, b50, b99,
                candidate.compared(), candidate.agreed(), List.copyOf(gates));
    }

    /*
     * Throughput sanity (weight steps only; a shadow copy is not an offered request). Each side's served share is
     * answered / offered over the window: requests the router handed to the version against those it answered
     * without a server-side error. A candidate that stops answering or cannot keep up with its share leaves its
     * requests queued or hung, so its served share falls while its errors and latencies (counted only when a
     * request finishes) may show nothing. It fails when its share is below min_throughput_ratio x the baseline's
     * AND the shortfall is significant by the same one-sided two-proportion z and boundary as the error gate,
     * with "offered and not answered" as the failure count: the ratio says the drop matters, the z that it is not
     * the few requests in flight when the window is read.
     */
    private static Gate throughput(VersionStats.Counts candidate, VersionStats.Counts baseline, GateSettings g,
                                   double zBound) {
        long oc = candidate.offered();
        long ob = baseline.offered();
        long ac = Math.min(oc, Math.max(0, candidate.answered()));
        long ab = Math.min(ob, Math.max(0, baseline.answered()));
        double sc = oc == 0 ? 1 : (double) ac / oc;
        double sb = ob == 0 ? 1 : (double) ab / ob;
        double ratio = sb > 0 ? sc / sb : 1;
        double z = ErrorRule.z(oc - ac, oc, ob - ab, ob);
        Verdict v = oc < g.minSample() || ob < g.minSample() ? Verdict.WAITING
                : ratio < g.minThroughputRatio() && z >= zBound ? Verdict.FAIL : Verdict.PASS;
        return new Gate("throughput", v, round(ratio), g.minThroughputRatio(), String.format(Locale.ROOT,
                "candidate answered %d of %d offered (%.1f%%), baseline %d of %d (%.1f%%): ratio %.2f vs min %.2f,"
                        + " z=%.2f vs %.2f", ac, oc, 100 * sc, ab, ob, 100 * sb, ratio, g.minThroughputRatio(), z,
                zBound));
    }

    /** The first failing gate, if any. */
    public java.util.Optional<Gate> failed() {
        return gates.stream().filter(x -> x.verdict() == Verdict.FAIL).findFirst();
    }

    /** True when every gate passes. */
    public boolean allPass() {
        return gates.stream().allMatch(x -> x.verdict() == Verdict.PASS);
    }

    /** The numbers, for audit entries and logs. */
    public String summary() {
        StringBuilder b = new StringBuilder();
        for (Gate x : gates) {
            if (!b.isEmpty()) {
                b.append("; ");
            }
            b.append(x.name()).append(' ').append(x.verdict()).append(" (").append(x.detail()).append(')');
        }
        return b.toString();
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 10_000) / 10_000.0 : 0;
    }
}
