package dev.gantry.core.usage;

import dev.gantry.store.usage.UsageCounts;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** What each key has used in the current UTC day and month, checked against its quota at admission. */
final class QuotaLedger {
    /*
     * Requests are counted at admission (a reservation) and given back if the request fails, so a burst of
     * concurrent requests cannot overshoot a request quota. Cost is only known once a request has run, so a
     * cost quota is checked against what completed requests cost: requests in flight when the limit is crossed
     * still finish. The ledger starts from the stored usage of the current month and day (a restart does not
     * reset quotas) and resets itself when the day or month changes.
     */
    private final Quotas quotas;
    private final Clock clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        LocalDate day;
        YearMonth month;
        long dayRequests;
        long monthRequests;
        double dayCost;
        double monthCost;

        Window(LocalDate day) {
            this.day = day;
            this.month = YearMonth.from(day);
        }

        void roll(LocalDate today) {
            if (!today.equals(day)) {
                day = today;
                dayRequests = 0;
                dayCost = 0;
            }
            YearMonth m = YearMonth.from(today);
            if (!m.equals(month)) {
                month = m;
                monthRequests = 0;
                monthCost = 0;
            }
        }
    }

    QuotaLedger(Quotas quotas, Clock clock, Map<String, UsageCounts> monthSoFar, Map<String, UsageCounts> daySoFar) {
        this.quotas = quotas;
        this.clock = clock;
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        monthSoFar.forEach((key, c) -> {
            Window w = windows.computeIfAbsent(key, k -> new Window(today));
            w.monthRequests = c.requests();
            w.monthCost = c.cost();
        });
        daySoFar.forEach((key, c) -> {
            Window w = windows.computeIfAbsent(key, k -> new Window(today));
            w.dayRequests = c.requests();
            w.dayCost = c.cost();
        });
    }

    /** Counts one request against the key's quota, or says which quota refuses it (counting nothing). */
    Optional<QuotaExceeded> admit(String keyId, String keyName) {
        Quota q = quotas.of(keyId, keyName);
        if (q.isUnlimited()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        Window w = windows.computeIfAbsent(keyId, k -> new Window(today));
        synchronized (w) {
            w.roll(today);
            Instant nextDay = today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
            Instant nextMonth = YearMonth.from(today).plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
            if (q.requestsPerMonth().isPresent() && w.monthRequests >= q.requestsPerMonth().getAsLong()) {
                return Optional.of(refusal("requests_per_month", keyName, q.requestsPerMonth().getAsLong(), nextMonth));
            }
            if (q.costPerMonth().isPresent() && w.monthCost >= q.costPerMonth().getAsDouble()) {
                return Optional.of(refusal("cost_per_month", keyName, q.costPerMonth().getAsDouble(), nextMonth));
            }
            if (q.requestsPerDay().isPresent() && w.dayRequests >= q.requestsPerDay().getAsLong()) {
                return Optional.of(refusal("requests_per_day", keyName, q.requestsPerDay().getAsLong(), nextDay));
            }
            if (q.costPerDay().isPresent() && w.dayCost >= q.costPerDay().getAsDouble()) {
                return Optional.of(refusal("cost_per_day", keyName, q.costPerDay().getAsDouble(), nextDay));
            }
            w.dayRequests++;
            w.monthRequests++;
            return Optional.empty();
        }
    }

    /** Gives back the request {@link #admit} counted: it failed, and failed requests do not use quota. */
    void release(String keyId) {
        Window w = windows.get(keyId);
        if (w == null) {
            return;
        }
        synchronized (w) {
            w.roll(LocalDate.now(clock.withZone(ZoneOffset.UTC)));
            w.dayRequests = Math.max(0, w.dayRequests - 1);
            w.monthRequests = Math.max(0, w.monthRequests - 1);
        }
    }

    /** Adds what a completed request cost. */
    void spent(String keyId, double cost) {
        if (cost == 0) {
            return;
        }
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        Window w = windows.computeIfAbsent(keyId, k -> new Window(today));
        synchronized (w) {
            w.roll(today);
            w.dayCost += cost;
            w.monthCost += cost;
        }
    }

    private static QuotaExceeded refusal(String quota, String keyName, double limit, Instant reset) {
        String shown = limit == Math.rint(limit) ? Long.toString((long) limit) : Double.toString(limit);
        return new QuotaExceeded(quota, keyName, limit, reset, "key '" + keyName + "' has used its quota "
                + quota + " (" + shown + "); it resets at " + reset);
    }
}
