package dev.gantry.bench.load;

import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;

/**
 * What one load run observed.
 *
 * @param mode {@code open} (fixed arrival rate), {@code closed} (fixed concurrency) or {@code inproc}
 *     (no HTTP: batched calls in one process)
 * @param targetRate the intended arrival rate in requests/s (open loop), else 0
 * @param concurrency requests kept outstanding (closed loop) or the batch size (inproc), else 0
 * @param elapsedSeconds from the first intended send to the last answer
 * @param sent requests (or, for inproc, items) started
 * @param ok requests answered 200
 * @param errors requests that failed: non-200 status, connection error, timeout, or dropped by the client's
 *     in-flight cap
 * @param errorKinds errors by kind ({@code status-429}, {@code timeout}, ...)
 * @param latency latency in microseconds of the successful requests; for open loop measured from each
 *     request's intended start, so it includes time the request would have waited behind a stalled
 *     server (coordinated omission corrected)
 * @param serviceTime latency in microseconds from the actual send; equals {@code latency} for closed loop
 * @param maxSendLagMicros the most the generator ever sent later than intended (its own health)
 * @param servedBy successful answers per model version that served them ({@code Gantry-Model-Version}
 *     header); empty when the server does not name it
 */
public record Measurement(String mode, double targetRate, int concurrency, double elapsedSeconds, long sent,
                          long ok, long errors, Map<String, Long> errorKinds, Histogram latency,
                          Histogram serviceTime, long maxSendLagMicros, Map<String, Long> servedBy) {
    public Measurement {
        errorKinds = new TreeMap<>(errorKinds);
        servedBy = new TreeMap<>(servedBy);
    }

    /** A measurement that does not know which version answered. */
    public Measurement(String mode, double targetRate, int concurrency, double elapsedSeconds, long sent, long ok,
                       long errors, Map<String, Long> errorKinds, Histogram latency, Histogram serviceTime,
                       long maxSendLagMicros) {
        this(mode, targetRate, concurrency, elapsedSeconds, sent, ok, errors, errorKinds, latency, serviceTime,
                maxSendLagMicros, Map.of());
    }

    /** Successful answers per second (items per second for inproc). */
    public double throughput() {
        return elapsedSeconds <= 0 ? 0 : ok / elapsedSeconds;
    }

    /** A latency percentile in milliseconds, NaN when nothing succeeded. */
    public double percentileMillis(double percentile) {
        return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(percentile) / 1000.0;
    }

    public double serviceTimePercentileMillis(double percentile) {
        return serviceTime.getTotalCount() == 0 ? Double.NaN : serviceTime.getValueAtPercentile(percentile) / 1000.0;
    }

    public double maxMillis() {
        return latency.getTotalCount() == 0 ? Double.NaN : latency.getMaxValue() / 1000.0;
    }
}
